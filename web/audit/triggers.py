"""The database triggers that keep the change log append-only (``audit_objectchange``), and the one way to lift
them: :func:`lifted`, used only by ``flush --purge-audit-log`` (:mod:`web.audit.management.commands.flush`).

SQLite refuses UPDATE and DELETE; PostgreSQL refuses UPDATE, DELETE (per row) and TRUNCATE. Migration
``audit.0002`` creates them from these statements: changing them needs a new migration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

MESSAGE = "audit_objectchange rows are append-only"
TABLE = "audit_objectchange"

SQLITE_CREATE = [
    f"CREATE TRIGGER audit_objectchange_no_{op.lower()} BEFORE {op} ON audit_objectchange "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    for op in ("UPDATE", "DELETE")
]
SQLITE_DROP = ["DROP TRIGGER audit_objectchange_no_update", "DROP TRIGGER audit_objectchange_no_delete"]
POSTGRES_CREATE = [
    (f"CREATE FUNCTION audit_objectchange_append_only() RETURNS trigger LANGUAGE plpgsql AS "
     f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"),
    ("CREATE TRIGGER audit_objectchange_no_change BEFORE UPDATE OR DELETE ON audit_objectchange "
     "FOR EACH ROW EXECUTE FUNCTION audit_objectchange_append_only()"),
    ("CREATE TRIGGER audit_objectchange_no_truncate BEFORE TRUNCATE ON audit_objectchange "
     "FOR EACH STATEMENT EXECUTE FUNCTION audit_objectchange_append_only()"),
]
POSTGRES_DROP = ["DROP FUNCTION audit_objectchange_append_only() CASCADE"]
_POSTGRES_TRIGGERS = ("audit_objectchange_no_change", "audit_objectchange_no_truncate")


def _sqlite_has_triggers(cursor: Any) -> bool:
    cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
    return cursor.fetchone()[0] > 0


@contextlib.contextmanager
def lifted(connection: Any) -> Iterator[None]:
    """The change log's triggers off inside the block, on again after it. Call it inside a transaction (both
    backends roll DDL back): if the block fails, the triggers were never off for anyone else."""
    if not connection.in_atomic_block:
        raise RuntimeError("lifting the change log's triggers needs a transaction (transaction.atomic)")
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            present = _sqlite_has_triggers(cursor)
            for sql in SQLITE_DROP if present else []:
                cursor.execute(sql)
        elif vendor == "postgresql":
            for name in _POSTGRES_TRIGGERS:
                cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {name}")
    yield
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            for sql in SQLITE_CREATE if present else []:
                cursor.execute(sql)
        elif vendor == "postgresql":
            for name in _POSTGRES_TRIGGERS:
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {name}")
