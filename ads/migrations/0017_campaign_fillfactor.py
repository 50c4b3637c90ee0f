from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Half of each ads_campaign page left free (PostgreSQL only; was 80 %, migration 0005). A
# sweep that pauses every campaign of many brands rewrites every row of their pages at once:
# at 80 % only about one row in five found room for a HOT update and the rest wrote to all
# six indexes. At 50 % all fit: the UPDATE of a 40,000-campaign pause went from 0.39-0.53 s
# to 0.30 s under EXPLAIN ANALYZE (BENCHMARKS.md, target 1). Only pages written from now on
# follow the setting; an existing table gets it with VACUUM FULL (or pg_repack) at a quiet
# moment.


def _fillfactor(value: int) -> object:
    def apply(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE ads_campaign SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("ads", "0016_audit_without_fk_check"),
    ]

    operations = [
        migrations.RunPython(_fillfactor(50), _fillfactor(80)),
    ]
