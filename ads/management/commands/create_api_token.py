from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.transactions import entry_point, outermost
from ads.models import TokenScope
from ads.services.selectors.operators import brands_lookup
from ads.services.tokens import token_create


class Command(BaseCommand):
    help = (
        "Create an API token and print its secret (alone, on the last line; it is not stored "
        "and cannot be shown again). Without --brand the token may write to every brand; "
        "without --scope it may ingest spend only."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--brand",
            action="append",
            default=[],
            metavar="ID_OR_NAME",
            help="A brand the token may write to, by id or name (any case); repeat for several.",
        )
        parser.add_argument("--expires", help="Expiry, ISO-8601 with offset (default: never).")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=[scope.value for scope in TokenScope],
            help="What the token may do: ingest (spend and status reads; the default), read, "
            "manage (implies read); repeat for several.",
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        lookup = brands_lookup(options["brand"])
        problems = []
        if lookup.unknown:
            problems.append(f"unknown brand(s): {', '.join(lookup.unknown)}")
        for reference, matches in lookup.ambiguous.items():
            named = ", ".join(f"{brand.name!r} (id {brand.pk})" for brand in matches)
            problems.append(f"--brand {reference!r} matches several brands: {named}; give the id")
        if problems:
            raise CommandError("; ".join(problems))
        brands = {brand.name: brand.pk for brand in lookup.found}
        expires_at = None
        if options["expires"]:
            try:
                expires_at = datetime.fromisoformat(options["expires"])
            except ValueError:
                raise CommandError(f"--expires {options['expires']!r} is not ISO-8601") from None
            if expires_at.tzinfo is None:
                raise CommandError("--expires needs a time zone offset, e.g. +00:00")
        try:
            # An operator at the shell has the database already: like a superuser, they may
            # create a token for every brand.
            with outermost():
                token, secret = token_create(
                    name=options["name"],
                    brand_ids=brands.values(),
                    by_superuser=True,
                    at=timezone.now(),
                    expires_at=expires_at,
                    scopes=options["scope"] or [TokenScope.INGEST],
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        scope = ", ".join(sorted(brands)) if brands else "every brand"
        self.stdout.write(f"Token {token.name!r} (id {token.pk}) may write to: {scope}.")
        self.stdout.write(f"Scopes: {', '.join(token.scopes)}.")
        self.stdout.write("Copy the secret now; it is not stored and cannot be shown again:")
        self.stdout.write(secret)
