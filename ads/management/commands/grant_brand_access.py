"""Grant (or with --revoke, take away) a staff user's access to brands."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ads.core.transactions import entry_point, outermost
from ads.services.access import brand_access_grant


class Command(BaseCommand):
    help = (
        "Let a staff user see and change these brands in the admin (brands by id or "
        "case-insensitive name). Superusers see every brand anyway."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("brands", nargs="+", metavar="BRAND")
        parser.add_argument("--revoke", action="store_true", help="Take the access away.")

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with outermost():
                change = brand_access_grant(
                    username=options["username"], brands=options["brands"], revoke=options["revoke"]
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        verb = "revoked" if options["revoke"] else "granted"
        self.stdout.write(
            f"{change.username}: {verb} {', '.join(change.changed) or 'nothing new'}"
            + (f" (already so: {', '.join(change.unchanged)})" if change.unchanged else "")
            + f". Brands now: {', '.join(change.now) or 'none'}."
        )
