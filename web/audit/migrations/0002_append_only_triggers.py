"""Database triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL) of change-log rows, so raw SQL and
other programs sharing the database cannot rewrite the history either."""

from django.db import migrations

_MESSAGE = "audit_objectchange rows are append-only"

_SQLITE = [
    f"CREATE TRIGGER audit_objectchange_no_{op.lower()} BEFORE {op} ON audit_objectchange "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
    for op in ("UPDATE", "DELETE")
]
_SQLITE_DROP = ["DROP TRIGGER audit_objectchange_no_update", "DROP TRIGGER audit_objectchange_no_delete"]
_POSTGRES = [
    (f"CREATE FUNCTION audit_objectchange_append_only() RETURNS trigger LANGUAGE plpgsql AS "
     f"$$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"),
    ("CREATE TRIGGER audit_objectchange_no_change BEFORE UPDATE OR DELETE ON audit_objectchange "
     "FOR EACH ROW EXECUTE FUNCTION audit_objectchange_append_only()"),
    ("CREATE TRIGGER audit_objectchange_no_truncate BEFORE TRUNCATE ON audit_objectchange "
     "FOR EACH STATEMENT EXECUTE FUNCTION audit_objectchange_append_only()"),
]
_POSTGRES_DROP = ["DROP FUNCTION audit_objectchange_append_only() CASCADE"]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [
        migrations.RunPython(_run({"sqlite": _SQLITE, "postgresql": _POSTGRES}),
                             _run({"sqlite": _SQLITE_DROP, "postgresql": _POSTGRES_DROP})),
    ]
