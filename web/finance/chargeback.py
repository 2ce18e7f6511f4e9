"""The chargeback report (부서별 정산): what each department's lines cost in one billing period, from the actual
costs of the audit (``CostActual``), per department and currency: its lines, cost centres, billed, allocated and
total amounts; and the line rows under it. Exported as CSV and XLSX with the headers in the user's language
(:mod:`web.finance.export`). Charges no line carries are a row without a department ("Not charged back")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from web.finance.models import CostActual

__all__ = ["DepartmentCharge", "chargeback", "periods_with_costs"]

ZERO = Decimal(0)


@dataclass(slots=True)
class DepartmentCharge:
    """One department's (``""``: none) costs in one currency."""

    department: str
    currency: str
    billed_amount: Decimal = ZERO
    allocated_amount: Decimal = ZERO
    amount: Decimal = ZERO
    cost_centres: set[str] = field(default_factory=set)
    rows: list[CostActual] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(1 for r in self.rows if r.line_name or r.circuit_id)


def chargeback(rows: Iterable[CostActual]) -> list[DepartmentCharge]:
    """``rows`` grouped by department and currency (departments by name, the one without last)."""
    groups: dict[tuple[str, str], DepartmentCharge] = {}
    for r in rows:
        group = groups.setdefault((r.department_name, r.currency), DepartmentCharge(r.department_name, r.currency))
        group.billed_amount += r.billed_amount
        group.allocated_amount += r.allocated_amount
        group.amount += r.amount
        if r.cost_centre_code:
            group.cost_centres.add(r.cost_centre_code)
        group.rows.append(r)
    return [groups[key] for key in sorted(groups, key=lambda k: (not k[0], k))]


def periods_with_costs() -> list[str]:
    """Every period with actual costs, the latest first."""
    return sorted(set(CostActual.objects.values_list("period", flat=True).distinct()), reverse=True)
