"""Budget against actual, pure: the variance to date and the year-end projection of each budgeted department or
cost centre (docs/finance.md "Budgets").

- **Budget to date**: the monthly budgets of the audited months (a year that linewatch started auditing in
  October compares October's and November's budget with their actuals, not January's to November's); a
  whole-year budget counts a twelfth per month (rounded to the currency's minor unit).
- **Actual to date**: the actual costs (``CostActual``) of the target in the year's audited months.
- **Variance**: actual − budget (positive: over budget), also in % of the budget.
- **Year-end projection**: actual to date + the mean of the last three audited months' actuals × the months
  of the year not audited (the months left, and any month before or between that has no audit: no data is
  estimated, never taken for 0; fewer than three audited months: the mean of those there are).

"Audited months" are the months of the year, through ``as_of``, for which any actual cost exists (the audit ran):
a target without a cost in such a month spent 0 in it; a month nobody audited is no data, not a 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from billing_etl.model import money
from linewatch.choices import BudgetScope

__all__ = ["ActualFact", "BudgetFact", "BudgetStatus", "budget_status", "projection"]

ZERO = Decimal(0)
MONTHS = 12
MEAN_MONTHS = 3


@dataclass(frozen=True, slots=True)
class BudgetFact:
    """A budget: ``target`` is the department's name or the cost centre's code; ``month`` None: the year."""

    scope: BudgetScope
    target: str
    year: int
    month: int | None
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class ActualFact:
    """What one target (department name / cost-centre code per ``scope``) cost in one month."""

    scope: BudgetScope
    target: str
    year: int
    month: int
    amount: Decimal
    currency: str


@dataclass(slots=True)
class BudgetStatus:
    """One budgeted target's year, through month ``through`` (0: nothing audited yet)."""

    scope: BudgetScope
    target: str
    year: int
    currency: str
    through: int
    budget_year: Decimal = ZERO
    budget_to_date: Decimal = ZERO
    actual_to_date: Decimal = ZERO
    projection: Decimal = ZERO
    by_month: dict[int, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)  # (budget, actual)

    @property
    def variance(self) -> Decimal:
        """actual − budget to date: positive is over budget."""
        return self.actual_to_date - self.budget_to_date

    @property
    def variance_pct(self) -> float | None:
        return None if not self.budget_to_date else float(100 * self.variance / self.budget_to_date)

    @property
    def projected_variance(self) -> Decimal:
        """projection − the year's budget: positive is the year ending over budget."""
        return self.projection - self.budget_year


def projection(actuals_by_month: dict[int, Decimal], *, audited: list[int], through: int) -> Decimal:
    """Actual to date + the mean of the last (up to) three audited months × the year's months not audited.
    ``through`` (the last audited month) is kept for the callers; the months counted are all the unaudited ones."""
    to_date = sum((actuals_by_month.get(m, ZERO) for m in audited), ZERO)
    recent = audited[-MEAN_MONTHS:]
    if not recent:
        return to_date
    mean = sum((actuals_by_month.get(m, ZERO) for m in recent), ZERO) / len(recent)
    return to_date + mean * (MONTHS - len(audited))


def budget_status(budgets: Iterable[BudgetFact], actuals: Iterable[ActualFact], *, year: int,
                  as_of: int = MONTHS, audited: Iterable[int] | None = None) -> list[BudgetStatus]:
    """One status per budgeted (scope, target, currency) of ``year``, sorted. ``audited``: the months of the
    year with actual costs at all (default: the months of ``actuals``); only those through ``as_of`` count."""
    actual_list = [a for a in actuals if a.year == year and a.month <= as_of]
    months = sorted({m for m in (audited if audited is not None else (a.month for a in actual_list))
                     if 1 <= m <= as_of})
    through = months[-1] if months else 0
    spent: dict[tuple[BudgetScope, str, str], dict[int, Decimal]] = {}
    for a in actual_list:
        by_month = spent.setdefault((a.scope, a.target, a.currency), {})
        by_month[a.month] = by_month.get(a.month, ZERO) + a.amount
    plans: dict[tuple[BudgetScope, str, str], dict[int | None, Decimal]] = {}
    for b in budgets:
        if b.year == year:
            plan = plans.setdefault((b.scope, b.target, b.currency), {})
            plan[b.month] = plan.get(b.month, ZERO) + b.amount
    out = []
    for key in sorted(plans):
        plan, by_month = plans[key], spent.get(key, {})
        monthly = {m: money(plan.get(None, ZERO) / MONTHS + plan.get(m, ZERO), key[2]) for m in range(1, MONTHS + 1)}
        status = BudgetStatus(scope=key[0], target=key[1], year=year, currency=key[2], through=through,
                              budget_year=sum(plan.values(), ZERO))
        status.budget_to_date = sum((monthly[m] for m in months), ZERO)
        status.actual_to_date = sum((by_month.get(m, ZERO) for m in months), ZERO)
        status.projection = money(projection(by_month, audited=months, through=through), key[2])
        status.by_month = {m: (monthly[m], by_month.get(m, ZERO) if m in months else None)
                           for m in range(1, MONTHS + 1)}
        out.append(status)
    return out
