"""Budgets imported from a CSV file (``/finance/budgets/import/``), all or nothing.

Columns (a header row, names in English, any order; extra columns are an error): ``department`` (a
department's name) or ``cost_centre`` (a cost centre's code) — exactly one per row, which gives the scope —,
``year``, ``month`` (1–12, empty: the whole year), ``amount`` (a decimal point, no grouping), ``currency``
(ISO 4217), and ``note`` (optional). A row for a budget that exists (same target, year, month and currency)
changes its amount and note. Every error names its row (the file's line number) and field; one error and
nothing is saved."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linewatch.choices import BudgetScope
from web.finance.models import Budget
from web.inventory.models import CostCentre, Department

__all__ = ["COLUMNS", "BudgetImportError", "ImportResult", "import_budgets"]

COLUMNS = ("department", "cost_centre", "year", "month", "amount", "currency", "note")
REQUIRED = ("year", "amount", "currency")
MAX_BYTES = 1_048_576


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return _("row %(row)d, %(field)s: %(reason)s") % {"row": self.row, "field": self.field,
                                                          "reason": self.reason}


class BudgetImportError(Exception):
    """The file was refused: ``errors`` name each row and field."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise BudgetImportError([RowError(0, "file", _("larger than 1 MiB"))])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BudgetImportError([RowError(0, "file", _("not UTF-8 text"))]) from None


def _parse(row_no: int, raw: dict[str, str], errors: list[RowError],
           targets: dict[str, dict[str, Any]]) -> Budget | None:
    values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
    count = len(errors)
    for name in REQUIRED:
        if not values.get(name):
            errors.append(RowError(row_no, name, _("required")))
    department, centre = values.get("department", ""), values.get("cost_centre", "")
    if bool(department) == bool(centre):
        errors.append(RowError(row_no, "department", _("give a department or a cost centre (one of them)")))
    elif department and department not in targets["department"]:
        errors.append(RowError(row_no, "department", _("no department named %(name)s") % {"name": department}))
    elif centre and centre not in targets["cost_centre"]:
        errors.append(RowError(row_no, "cost_centre", _("no cost centre %(code)s") % {"code": centre}))
    numbers: dict[str, Any] = {}
    for name in ("year", "month"):
        if values.get(name):
            try:
                numbers[name] = int(values[name])
            except ValueError:
                errors.append(RowError(row_no, name, _("not a whole number")))
    if values.get("amount"):
        try:
            numbers["amount"] = Decimal(values["amount"])
            if not numbers["amount"].is_finite():
                raise InvalidOperation
        except InvalidOperation:
            errors.append(RowError(row_no, "amount", _("not a number (use a decimal point, no grouping)")))
    if len(errors) > count:
        return None
    key = {"scope": BudgetScope.DEPARTMENT if department else BudgetScope.COST_CENTRE,
           "department": targets["department"].get(department), "cost_centre": targets["cost_centre"].get(centre),
           "year": numbers["year"], "month": numbers.get("month"), "currency": values["currency"].upper()}
    budget = Budget.objects.filter(**key).first() or Budget(**key)
    budget.amount = numbers["amount"]
    budget.note = values.get("note", "")
    try:
        budget.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.extend(RowError(row_no, name if name != "__all__" else "row", m) for m in messages)
        return None
    return budget


def import_budgets(data: bytes) -> ImportResult:
    """Create or update the budgets of the CSV ``data``; raises :class:`BudgetImportError` (nothing saved)."""
    reader = csv.DictReader(io.StringIO(_text(data)))
    header = [h.strip() for h in reader.fieldnames or ()]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [h for h in REQUIRED if h not in header]
    if not header or unknown or missing:
        reason = _("unknown column(s): %(names)s") % {"names": ", ".join(unknown)} if unknown else \
            _("missing column(s): %(names)s") % {"names": ", ".join(missing or REQUIRED)}
        raise BudgetImportError([RowError(1, "header", reason + " — " + _("columns: %(names)s") % {
            "names": ", ".join(COLUMNS)})])
    reader.fieldnames = header
    targets = {"department": {d.name: d for d in Department.objects.all()},
               "cost_centre": {c.code: c for c in CostCentre.objects.all()}}
    errors: list[RowError] = []
    created = updated = 0
    with transaction.atomic():
        seen: dict[tuple[Any, ...], int] = {}
        for raw in reader:
            row_no = reader.line_num
            if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
                continue
            budget = _parse(row_no, raw, errors, targets)
            if budget is None:
                continue
            key = (budget.scope, budget.department_id, budget.cost_centre_id, budget.year, budget.month,
                   budget.currency)
            if key in seen:
                errors.append(RowError(row_no, "row", _("the same budget as row %(row)d") % {"row": seen[key]}))
                continue
            seen[key] = row_no
            is_new = budget.pk is None
            budget.save()
            created, updated = created + is_new, updated + (not is_new)
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise BudgetImportError(errors)
    return ImportResult(created=created, updated=updated)
