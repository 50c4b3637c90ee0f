"""Triggers that refuse UPDATE and DELETE on the spend ledger (see ads.models.ledger_guard)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ads.models import ledger_guard


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ledger_guard.install_triggers(schema_editor)


def remove(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ledger_guard.PG_REMOVE)
    else:
        for statement in ledger_guard.SQLITE_REMOVE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("ads", "0007_spend_event_key_with_kind"),
    ]

    operations = [migrations.RunPython(install, remove)]
