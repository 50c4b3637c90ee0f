"""The ledger is append-only in the database itself, not by convention.

Triggers on ``ads_spendevent`` (migration 0008) and on its key table ``ads_spendeventkey``
(migration 0017) refuse every UPDATE and DELETE, whoever sends it: the ORM, a raw cursor, or
an operator's SQL shell. Corrections are new rows. On PostgreSQL the ledger is partitioned by
month; the row trigger is created on the parent, and PostgreSQL (13+) clones it onto every
partition, present and future, so a partition written directly refuses too. Two things may
still remove rows, deliberately and visibly:

* ``ledger_maintenance()``: the benchmark removing the data it created itself, and
  ``ledger_archive`` deleting the keys of the months it detaches;
* ``manage.py flush`` (and the test suite's flush between transactional tests), which wipes
  the whole database. PostgreSQL flushes with TRUNCATE, which row triggers do not see;
  SQLite flushes with DELETE, which is let through while the flush runs.

PostgreSQL checks a transaction-local setting; SQLite calls a function that every Django
connection registers, so a client without it (the sqlite3 shell) is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.signals import connection_created
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_migrate

SQLITE_FUNCTION = "ads_ledger_writable"
PG_SETTING = "ads.ledger_maintenance"
REFUSAL = (
    "the spend ledger is append-only: {op} of {table} is refused "
    "(record a correction or adjustment instead)"
)
# The ledger and its idempotency keys (a key deleted would let its event be recorded twice).
GUARDED_TABLES = ("ads_spendevent", "ads_spendeventkey")

# TG_TABLE_NAME is the partition's name when the row is in a partition; the message names
# the ledger either way.
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ads_spendevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{PG_SETTING}', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    -- restrict_violation: Django raises IntegrityError, as SQLite's RAISE(ABORT) gives.
    RAISE EXCEPTION USING
        ERRCODE = 'restrict_violation',
        MESSAGE = replace(replace('{REFUSAL}', '{{op}}', TG_OP), '{{table}}',
            regexp_replace(TG_TABLE_NAME, '_(y[0-9]{{4}}m[0-9]{{2}}|default)$', ''));
END
$$;
"""


def _pg_trigger(table: str) -> str:
    return f"""CREATE OR REPLACE TRIGGER ads_spendevent_append_only
        BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION ads_spendevent_append_only();"""


INSTALLED_BY = ("ads", "0008_append_only_ledger")
PG_REMOVE = """
DROP TRIGGER IF EXISTS ads_spendevent_append_only ON ads_spendevent;
DROP FUNCTION IF EXISTS ads_spendevent_append_only();
"""


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()}
        BEFORE {op} ON {table}
        WHEN NOT {SQLITE_FUNCTION}()
        BEGIN SELECT RAISE(ABORT, '{REFUSAL.format(op=op, table=table)}'); END"""
        for op in ("UPDATE", "DELETE")
    ]


SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS ads_spendevent_no_{op}" for op in ("update", "delete")]


def _register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor != "sqlite":
        return
    wrapper = connection
    connection.connection.create_function(
        SQLITE_FUNCTION, 0, lambda: int(getattr(wrapper, "ads_ledger_writable", False))
    )


def install_triggers(schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Create the triggers on the guarded tables that exist, or leave them as they are
    (idempotent). Migration 0008 runs before the key table exists; 0017 and every later
    migrate (post_migrate) cover it."""
    existing = set(schema_editor.connection.introspection.table_names())
    tables = [table for table in GUARDED_TABLES if table in existing]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        for table in tables:
            schema_editor.execute(_pg_trigger(table))
    else:
        for table in tables:
            for statement in _sqlite_triggers(table):
                schema_editor.execute(statement)


def _reinstall_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # SQLite rebuilds a table (new table, copy, drop, rename) for many schema changes, and
    # the old table's triggers go with it: a later migration that alters SpendEvent would
    # silently make the ledger writable again. After every migrate, put them back.
    wrapper = connections[using]
    if INSTALLED_BY not in MigrationRecorder(wrapper).applied_migrations():
        return
    with wrapper.schema_editor() as schema_editor:
        install_triggers(schema_editor)


def install() -> None:
    """Connect the SQLite function, re-check the triggers after each migrate, and let flush
    through (called from AppConfig.ready)."""
    connection_created.connect(_register_sqlite_function, dispatch_uid="ads_ledger_guard")
    post_migrate.connect(_reinstall_after_migrate, dispatch_uid="ads_ledger_guard_triggers")
    # SQLite's operations class through its backend's base module: importing the operations
    # module first is a circular import.
    operations = SQLiteDatabaseWrapper.ops_class
    original = operations.execute_sql_flush
    if getattr(original, "ads_ledger_guard", False):
        return

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: Iterable[str]) -> None:
        # A flush empties every table by design; on SQLite that is DELETE, so it runs with
        # the ledger writable, as PostgreSQL's TRUNCATE does.
        self.connection.ads_ledger_writable = True  # type: ignore[attr-defined]
        try:
            original(self, sql_list)
        finally:
            self.connection.ads_ledger_writable = False  # type: ignore[attr-defined]

    execute_sql_flush.ads_ledger_guard = True  # type: ignore[attr-defined]
    operations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]


@contextmanager
def ledger_maintenance() -> Iterator[None]:
    """Within one transaction, let this connection delete or update ledger rows. For data
    that the system created for itself (the benchmark's); never for real spend."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [PG_SETTING])
            try:
                yield
            finally:
                # Transaction-local, but an enclosing transaction (this block may be a
                # savepoint) would keep it on until its own end.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'off', true)", [PG_SETTING])
            return
        connection.ads_ledger_writable = True  # type: ignore[attr-defined]
        try:
            yield
        finally:
            connection.ads_ledger_writable = False  # type: ignore[attr-defined]
