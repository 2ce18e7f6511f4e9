"""``linewatch web manage intake_collect [--folder DIR] [--keep] [--no-imap]``: one intake pass now, without the
worker; prints one line per file (outcome, carrier, invoices, reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from web.intake.collect import collect_folder, collect_imap
from web.intake.imap import ImapError


class Command(BaseCommand):
    help = "Collect the invoice files of the drop folder and the mailbox now (docs/intake.md)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--folder", type=Path, help="this folder instead of intake.folder")
        parser.add_argument("--keep", action="store_true", help="leave the folder's files where they are")
        parser.add_argument("--no-imap", action="store_true", help="do not read the mailbox")
        parser.add_argument("--settle-s", type=float, default=1.0,
                            help="seconds a file's size must stay the same before it is taken (default 1)")

    def handle(self, *args: Any, folder: Path | None = None, keep: bool = False, no_imap: bool = False,
               settle_s: float = 1.0, **options: Any) -> None:
        rows = collect_folder(folder, settle_s=settle_s, move=not keep)
        if not no_imap:
            try:
                rows += collect_imap()
            except ImapError as exc:
                raise CommandError(str(exc)) from None
        for row in rows:
            invoices = ", ".join(row.invoices) or "-"
            self.stdout.write(f"{row.outcome:<12} {row.filename}  carrier={row.carrier_name or '-'}  "
                              f"invoices={invoices}  rows={row.rows_imported}/{row.rows_quarantined}"
                              + (f"  reason={row.reason}" if row.reason else ""))
        self.stdout.write(f"{len(rows)} file(s) collected")
