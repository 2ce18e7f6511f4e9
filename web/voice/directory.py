"""The application's extension directory: the Extension rows as the core's :class:`~linewatch.voice.directory.Directory`
(for the pages and the billing ETL's audit, web/invoices/audit.py), and the CSV import (all rows or none, every
problem with its row) in the core's format (:func:`linewatch.voice.directory.parse_directory_csv`; the export is
web/voice/export.py's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linewatch.errors import Problem
from linewatch.voice.directory import Directory, parse_directory_rows
from web.inventory.models import CostCentre, Department
from web.voice.models import Extension

__all__ = ["ExtensionImportError", "ImportResult", "app_directory", "import_extensions"]

MAX_BYTES = 8 * 1024 * 1024


def app_directory() -> Directory:
    """Every Extension row as a :class:`Directory` (two queries' worth: one, with the joins)."""
    rows = Extension.objects.select_related("department", "cost_centre").order_by("number")
    return Directory([row.as_entry() for row in rows])


class ExtensionImportError(Exception):
    """The file was refused: ``problems`` name each row and column (nothing was saved)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    deleted: int


def _text(data: bytes, file: str) -> str:
    if len(data) > MAX_BYTES:
        raise ExtensionImportError([Problem(file, None, "file", _("larger than 8 MiB"))])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExtensionImportError([Problem(file, None, "file", _("not UTF-8 text"))]) from None


def import_extensions(data: bytes, *, file: str = "extensions.csv", replace: bool = False) -> ImportResult:
    """Create or update the extensions of the directory CSV ``data`` (a number already there gets the row's
    department, name and cost centre); ``replace``: also delete the extensions the file does not list. Raises
    :class:`ExtensionImportError` with every problem (nothing saved). Change-logged as the current context's
    user (``web.audit.context.change_context``)."""
    entries, problems = parse_directory_rows(_text(data, file), file=file)
    departments = {d.name: d for d in Department.objects.all()}
    centres = {c.code: c for c in CostCentre.objects.all()}
    existing = {e.number: e for e in Extension.objects.all()}
    rows: list[tuple[int, Extension, tuple[Any, ...] | None]] = []
    for row_no, entry in entries:
        department = departments.get(entry.department)
        centre = centres.get(entry.cost_centre) if entry.cost_centre else None
        if department is None:
            problems.append(Problem(file, row_no, "department", _("no department named %(name)s") % {
                "name": entry.department}))
        if entry.cost_centre and centre is None:
            problems.append(Problem(file, row_no, "cost_centre", _("no cost centre %(code)s") % {
                "code": entry.cost_centre}))
        if department is None or (entry.cost_centre and centre is None):
            continue
        row = existing.get(entry.number) or Extension(number=entry.number)
        before = _values(row) if row.pk else None
        row.department, row.cost_centre, row.name = department, centre, entry.name
        rows.append((row_no, row, before))
    if problems:
        raise ExtensionImportError(sorted(problems, key=lambda p: (p.line or 0, p.key)))
    created = updated = 0
    with transaction.atomic():
        for row_no, row, before in rows:
            if before is not None and before == _values(row):
                continue  # unchanged: no save, no change-log row
            try:
                row.full_clean()
            except ValidationError as exc:
                problems.extend(Problem(file, row_no, name, m) for name, ms in exc.message_dict.items() for m in ms)
                continue
            created, updated = created + (before is None), updated + (before is not None)
            row.save()
        deleted = 0
        if replace and not problems:
            listed = {row.number for _row_no, row, _before in rows}
            for row in Extension.objects.exclude(number__in=listed):
                row.delete()  # one by one: each deletion is change-logged
                deleted += 1
        if problems:
            transaction.set_rollback(True)
    if problems:
        raise ExtensionImportError(problems)
    return ImportResult(created=created, updated=updated, deleted=deleted)


def _values(row: Extension) -> tuple[Any, ...]:
    return (row.department_id, row.cost_centre_id, row.name)
