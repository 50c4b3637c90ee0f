from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.services.health import doctor


class Command(BaseCommand):
    help = (
        "Check configuration, database, broker, migrations, beat freshness per job, a worker "
        "ping, failed or stuck deliveries, each outbox's backlog, the ledger partitions and "
        "the clock; one line per check. Exits 1 if any check fails."
    )
    requires_system_checks: list[str] = []  # reported as a check of its own, not a crash
    requires_migrations_checks = False

    def handle(self, *args: Any, **options: Any) -> None:
        checks = doctor(at=timezone.now())
        for check in checks:
            self.stdout.write(check.line())
        failed = [check.name for check in checks if not check.ok]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}", returncode=1)
        self.stdout.write(f"all {len(checks)} checks passed")
