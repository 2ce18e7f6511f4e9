"""``linewatch web manage documents_check [--delete-orphans] [--min-age-s N]``: the documents folder against the
database — files no row points to (a crash between writing a file and committing its row, or an interrupted
``.part``), and rows whose file is missing (a folder restored from an older backup). Exit status 1 when either
is found (after ``--delete-orphans``: only for missing files)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from web.inventory.documents import store
from web.inventory.models import Document


class Command(BaseCommand):
    help = "List (and optionally delete) document files without a row, and rows without their file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete-orphans", action="store_true",
                            help="delete the files no row points to (older than --min-age-s)")
        parser.add_argument("--min-age-s", type=float, default=3600.0,
                            help="only files untouched this long count as orphans (an upload may be in flight)")

    def handle(self, *args: Any, delete_orphans: bool, min_age_s: float, **options: Any) -> None:
        files = store()
        now = time.time()
        known = set(Document.objects.values_list("storage_name", flat=True))
        on_disk = {p.name: p for p in files.root.iterdir() if p.is_file()} if files.root.is_dir() else {}
        orphans = sorted(name for name, path in on_disk.items()
                         if name not in known and now - path.stat().st_mtime >= min_age_s)
        missing = Document.objects.exclude(storage_name__in=list(on_disk)).order_by("pk")
        for name in orphans:
            if delete_orphans:
                (files.root / name).unlink(missing_ok=True)
                self.stdout.write(f"deleted orphan file {files.root / name}")
            else:
                self.stdout.write(f"orphan file {files.root / name} (no document row)")
        for document in missing:
            self.stdout.write(f"document {document.pk} ({document.file_name}, parent {document.parent}): "
                              f"its file {files.root / document.storage_name} is missing")
        self.stdout.write(f"{len(on_disk)} files, {len(known)} documents, {len(orphans)} orphan files, "
                          f"{missing.count()} documents without their file")
        if missing.exists() or (orphans and not delete_orphans):
            raise CommandError("documents and files disagree (see above)", returncode=1)
