"""Database triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL) of change-log rows, so raw SQL and
other programs sharing the database cannot rewrite the history either. The statements are in web/audit/triggers.py
(also used by ``flush --purge-audit-log``): they must not change under this migration."""

from django.db import migrations

from web.audit.triggers import POSTGRES_CREATE as _POSTGRES
from web.audit.triggers import POSTGRES_DROP as _POSTGRES_DROP
from web.audit.triggers import SQLITE_CREATE as _SQLITE
from web.audit.triggers import SQLITE_DROP as _SQLITE_DROP


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
