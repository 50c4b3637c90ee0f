"""The ledger's idempotency key moves to its own table (both databases), and on PostgreSQL
the ledger becomes partitioned by month (ads.services.ledger_partitions). Existing rows are
kept: their keys are copied, and on PostgreSQL the rows are moved into the partitions."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone

import ads.core.money
from ads.models import ledger_guard
from ads.services import ledger_partitions as lp


def copy_keys(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(
        """INSERT INTO ads_spendeventkey (source, external_id, kind, local_date, event_id)
        SELECT source, external_id, kind, local_date, id FROM ads_spendevent"""
    )


def _swap(schema_editor: BaseDatabaseSchemaEditor, *, partitioned: bool) -> None:
    """Rebuild ads_spendevent as a partitioned table (or back to a plain one): rename the
    old one aside, create the new one with the same columns, identity, checks, foreign key
    and index (the primary key gains local_date when partitioned: PostgreSQL requires the
    partition key in it), move the rows, drop the old one, put the triggers back."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("LOCK TABLE ads_spendevent IN ACCESS EXCLUSIVE MODE")
        cursor.execute("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = 'ads_spendevent'::regclass AND contype = 'f'""")
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT DISTINCT CAST(date_trunc('month', local_date) AS date) FROM ads_spendevent"
        )
        months = {row[0] for row in cursor.fetchall()}
        cursor.execute("ALTER TABLE ads_spendevent RENAME TO ads_spendevent_old")
        cursor.execute(
            "ALTER TABLE ads_spendevent_old RENAME CONSTRAINT ads_spendevent_pkey "
            "TO ads_spendevent_old_pkey"
        )
        cursor.execute("ALTER INDEX spend_event_day_idx RENAME TO spend_event_day_idx_old")
        cursor.execute("SELECT pg_get_serial_sequence('ads_spendevent_old', 'id')")
        old_sequence = cursor.fetchone()[0]
        cursor.execute(f"ALTER SEQUENCE {old_sequence} RENAME TO ads_spendevent_old_id_seq")
        by = " PARTITION BY RANGE (local_date)" if partitioned else ""
        cursor.execute(
            "CREATE TABLE ads_spendevent (LIKE ads_spendevent_old INCLUDING DEFAULTS "
            f"INCLUDING IDENTITY INCLUDING CONSTRAINTS){by}"
        )
        key = "id, local_date" if partitioned else "id"
        cursor.execute(
            f"ALTER TABLE ads_spendevent ADD CONSTRAINT ads_spendevent_pkey PRIMARY KEY ({key})"
        )
        cursor.execute(
            "CREATE INDEX spend_event_day_idx ON ads_spendevent (campaign_id, local_date)"
        )
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE ads_spendevent ADD CONSTRAINT {name} {definition}")
        if partitioned:
            lp.create_default_partition(cursor)
            wanted = set(lp.months_wanted(timezone.now(), lp.DEFAULT_AHEAD)) | months
            for month in sorted(wanted):
                lp.create_partition(cursor, month)
        cursor.execute("INSERT INTO ads_spendevent SELECT * FROM ads_spendevent_old")
        # The foreign key is checked at commit (deferred); a pending check forbids altering
        # the table later in this migration (the reverse adds the unique key back).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SELECT pg_get_serial_sequence('ads_spendevent', 'id')")
        new_sequence = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT setval('{new_sequence}', GREATEST((SELECT last_value FROM "
            "ads_spendevent_old_id_seq), 1))"
        )
        cursor.execute("DROP TABLE ads_spendevent_old")
        if new_sequence != "public.ads_spendevent_id_seq":
            # The identity's sequence keeps the name the statements use.
            cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO ads_spendevent_id_seq")
    ledger_guard.install_triggers(schema_editor)


def partition(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _swap(schema_editor, partitioned=True)
    else:
        ledger_guard.install_triggers(schema_editor)  # the key table's


def unpartition(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _swap(schema_editor, partitioned=False)


class Migration(migrations.Migration):

    dependencies = [
        ("ads", "0016_audit_without_fk_check"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerArchive",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(unique=True)),
                (
                    "table",
                    models.CharField(help_text="Schema-qualified archived table.", max_length=128),
                ),
                ("rows", models.BigIntegerField()),
                ("amount", ads.core.money.MoneyField(default=0)),
                ("archived_at", models.DateTimeField()),
                ("actor", models.CharField(max_length=150)),
            ],
            options={
                "ordering": ["-month"],
            },
        ),
        migrations.CreateModel(
            name="SpendEventKey",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "source",
                        "external_id",
                        "kind",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("source", models.CharField(max_length=64)),
                ("external_id", models.CharField(max_length=128)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("event", "Spend event"),
                            ("adjustment", "Adjustment to a reported daily total"),
                            ("correction", "Correction by staff"),
                        ],
                        max_length=16,
                    ),
                ),
                ("local_date", models.DateField()),
                ("event_id", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(copy_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="spendevent",
            name="spend_event_unique_key",
        ),
        migrations.AlterField(
            model_name="jobrun",
            name="job",
            field=models.CharField(
                choices=[
                    ("check_budget", "Budget check"),
                    ("enforce_dayparting", "Dayparting"),
                    ("reset_spend_daily", "Daily reset"),
                    ("reset_spend_monthly", "Monthly reset"),
                    ("prune_job_runs", "Prune job history"),
                    ("ledger_partitions", "Ledger partitions ahead"),
                ],
                max_length=32,
            ),
        ),
        migrations.AlterField(
            model_name="spendcorrection",
            name="spend_event",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="correction",
                to="ads.spendevent",
            ),
        ),
        migrations.RunPython(partition, unpartition),
    ]
