"""``flush`` that knows the change log is append-only (it replaces Django's, same options plus one).

Django's ``flush`` empties every table; the change log's triggers (web/audit/triggers.py) refuse that with a
raw database error. Here, a database whose change log holds rows is not flushed: the command stops with an error
saying how many rows would go and what to do. ``--purge-audit-log`` is the explicit path: in ONE transaction the
triggers are lifted, every table (the change log and the login log too) is emptied and the triggers are restored,
so no other client ever sees the log unprotected, and a failure leaves everything as it was. Test databases that
a test runner flushes (``TransactionTestCase``, pytest-django's ``transactional_db``) set the Django setting
``LINEWATCH_AUDIT_PURGE_ON_FLUSH = True`` instead, since the runner passes no options (docs/web.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DatabaseError, connections, transaction

from web.audit.models import ObjectChange
from web.audit.triggers import lifted

PURGE_SETTING = "LINEWATCH_AUDIT_PURGE_ON_FLUSH"


class Command(DjangoFlush):
    help = (DjangoFlush.help + " A change log with rows is erased only with --purge-audit-log (it is append-only): "
            "without it the command stops and nothing is deleted.")

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument("--purge-audit-log", action="store_true",
                            help="also erase the append-only change log and the login log (lifts the change "
                                 "log's triggers inside the flush's transaction)")

    def handle(self, **options: Any) -> None:
        database = options["database"]
        connection = connections[database]
        purge = options["purge_audit_log"] or bool(getattr(settings, PURGE_SETTING, False))
        try:
            rows = ObjectChange.objects.using(database).count()
        except DatabaseError:  # not migrated yet: nothing to protect, Django's flush decides
            return super().handle(**options)
        if rows and not purge:
            raise CommandError(
                f"refusing to flush database '{database}': its change log is append-only and holds {rows} "
                f"row{'s' if rows != 1 else ''}, which flush would erase. Nothing was deleted. To erase the change "
                f"log and the login log too, run: linewatch web manage flush --purge-audit-log "
                f"(test databases: set {PURGE_SETTING} = True); or drop the database. See docs/web.md.")
        if options["interactive"] and not self._confirmed(database, purge=bool(rows)):
            self.stdout.write("Flush cancelled.")
            return None
        # Asked first: the triggers are never lifted while a prompt waits.
        with transaction.atomic(using=database), lifted(connection):
            return super().handle(**{**options, "interactive": False})

    def _confirmed(self, database: str, *, purge: bool) -> bool:
        log = " and the change log and login log" if purge else ""
        answer = input(f"This erases ALL data{log} of database '{database}' and returns it to the state after "
                       f"migrate.\nAre you sure? Type 'yes' to continue, or 'no' to cancel: ")
        return answer == "yes"
