"""The finance KPIs, budget variance and projection as pure functions (web/finance/kpis.py, budgets.py, points.py):
tables of named cases on plain records, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from linewatch.choices import BudgetScope, DisputeState
from web.finance.budgets import ActualFact, BudgetFact, budget_status, projection
from web.finance.kpis import DisputeFact, PaymentKpi, age_bucket, dispute_kpis, totals_by_currency
from web.finance.points import budget_points, dispute_points, payment_points

TODAY = dt.date(2026, 12, 2)


def _sent(days_ago: int) -> dt.date:
    return TODAY - dt.timedelta(days=days_ago)


@pytest.mark.parametrize(("age_days", "bucket"), [
    (0, "open_0_30"), (30, "open_0_30"), (31, "open_31_60"), (60, "open_31_60"), (61, "open_61_90"),
    (90, "open_61_90"), (91, "open_over_90"), (400, "open_over_90"), (-2, "open_0_30"),
], ids=lambda v: str(v))
def test_age_bucket_edges(age_days: int, bucket: str) -> None:
    assert age_bucket(age_days) == bucket


DISPUTES = [
    DisputeFact("Colt", "EUR", "2026-10", DisputeState.SENT, D("100.00"), sent_on=_sent(10)),
    DisputeFact("Colt", "EUR", "2026-10", DisputeState.ANSWERED, D("40.00"), sent_on=_sent(45)),
    DisputeFact("Colt", "EUR", "2026-10", DisputeState.RESOLVED, D("50.00"), D("30.00"), sent_on=_sent(70)),
    DisputeFact("Colt", "EUR", "2026-10", DisputeState.DRAFT, D("999.00")),  # not claimed yet
    DisputeFact("Colt", "USD", "2026-10", DisputeState.SENT, D("7.00"), sent_on=_sent(120)),
    DisputeFact("Telia", "EUR", "2026-09", DisputeState.RESOLVED, D("20.00"), D("20.00"), sent_on=_sent(80)),
]


def test_dispute_kpis_group_by_month_carrier_and_currency_without_drafts() -> None:
    kpis = dispute_kpis(DISPUTES, today=TODAY)
    assert [(k.month, k.carrier, k.currency, k.disputes) for k in kpis] == [
        ("2026-09", "Telia", "EUR", 1), ("2026-10", "Colt", "EUR", 3), ("2026-10", "Colt", "USD", 1)]


@pytest.mark.parametrize(("field", "expected"), [
    ("claimed", D("190.00")), ("recovered", D("30.00")), ("pending", D("140.00")), ("written_off", D("20.00")),
    ("open", 2), ("resolved_claimed", D("50.00")),
], ids=lambda v: str(v))
def test_dispute_kpi_figures_of_one_carrier_month(field: str, expected: object) -> None:
    colt = dispute_kpis(DISPUTES, today=TODAY)[1]
    assert getattr(colt, field) == expected


def test_pending_amount_is_aged_by_days_since_sent() -> None:
    colt = dispute_kpis(DISPUTES, today=TODAY)[1]
    assert colt.ageing == {"open_0_30": D("100.00"), "open_31_60": D("40.00"), "open_61_90": D(0),
                           "open_over_90": D(0)}
    assert colt.open_by_age == {"open_0_30": 1, "open_31_60": 1, "open_61_90": 0, "open_over_90": 0}


@pytest.mark.parametrize(("recovered", "claimed", "rate"), [
    (D(30), D(50), 60.0), (D(0), D(50), 0.0), (D(20), D(20), 100.0), (D(0), D(0), None),
], ids=["part", "rejected", "full", "none-resolved"])
def test_recovery_rate_is_recovered_over_resolved_claims(recovered: D, claimed: D, rate: float | None) -> None:
    kpi = dispute_kpis([DisputeFact("X", "EUR", "2026-10", DisputeState.RESOLVED, claimed, recovered,
                                    sent_on=TODAY)], today=TODAY)[0]
    assert kpi.recovery_rate_pct == rate


def test_totals_never_add_currencies() -> None:
    totals = totals_by_currency(dispute_kpis(DISPUTES, today=TODAY))
    assert set(totals) == {"EUR", "USD"}
    assert totals["EUR"].claimed == D("210.00") and totals["EUR"].recovered == D("50.00")
    assert totals["USD"].ageing["open_over_90"] == D("7.00")


DEPT = BudgetScope.DEPARTMENT


def _actuals(target: str, amounts: dict[int, str], *, scope: BudgetScope = DEPT) -> list[ActualFact]:
    return [ActualFact(scope, target, 2026, m, D(a), "EUR") for m, a in amounts.items()]


@pytest.mark.parametrize(("actuals", "audited", "through", "expected"), [
    ({1: "100", 2: "100", 3: "100"}, [1, 2, 3], 3, D(1200)),  # steady: 300 + 100 × 9
    ({1: "100", 2: "200", 3: "300", 4: "400"}, [1, 2, 3, 4], 4, D(3400)),  # 1000 + mean(200,300,400) × 8
    ({1: "120"}, [1], 1, D(1440)),  # one month: its own × 11 more
    ({}, [], 0, D(0)),  # nothing audited yet
    ({1: "100", 3: "100"}, [1, 2, 3], 3, D(200) + D(200) / 3 * 9),  # an audited month without cost is 0
    ({10: "110", 11: "162"}, [10, 11], 11, D(272) + D(136) * 10),  # audits began in October: 10 months estimated
], ids=["steady", "rising", "one-month", "nothing", "zero-month", "started-in-october"])
def test_projection_is_actual_plus_mean_of_last_three_months_times_months_left(
        actuals: dict[int, str], audited: list[int], through: int, expected: D) -> None:
    assert projection({m: D(a) for m, a in actuals.items()}, audited=audited, through=through) == expected


def test_year_budget_counts_a_twelfth_per_month_and_variance_is_actual_minus_budget() -> None:
    (status,) = budget_status([BudgetFact(DEPT, "Sales", 2026, None, D(1200), "EUR")],
                              _actuals("Sales", {1: "150", 2: "150"}), year=2026)
    assert (status.through, status.budget_to_date, status.actual_to_date) == (2, D("200.00"), D(300))
    assert status.variance == D("100.00") and status.variance_pct == 50.0
    assert status.projection == D("1800.00") and status.projected_variance == D("600.00")


def test_monthly_budgets_count_through_the_last_audited_month() -> None:
    budgets = [BudgetFact(DEPT, "Sales", 2026, m, D(100), "EUR") for m in range(1, 13)]
    budgets[0] = BudgetFact(DEPT, "Sales", 2026, 1, D(400), "EUR")
    (status,) = budget_status(budgets, _actuals("Sales", {1: "50"}) + _actuals("IT", {2: "10"}), year=2026)
    assert status.through == 2, "February is audited (IT has a cost in it)"
    assert status.budget_to_date == D(500) and status.actual_to_date == D(50)
    assert status.by_month[2] == (D(100), D(0)) and status.by_month[3] == (D(100), None)


def test_budget_to_date_counts_only_the_audited_months() -> None:
    """Regression: a year whose audits began in October compared October and November's 272.00 actual with
    eleven months of budget (2,200.00): −88 %. The months nobody audited are no data, not savings."""
    (status,) = budget_status([BudgetFact(DEPT, "Engineering", 2026, None, D(2400), "EUR")],
                              _actuals("Engineering", {10: "110", 11: "162"}), year=2026)
    assert (status.through, status.budget_to_date, status.actual_to_date) == (11, D("400.00"), D(272))
    assert status.variance == D("-128.00") and status.projection == D("1632.00")


@pytest.mark.parametrize(("case", "budget", "actuals"), [
    ("other currency", BudgetFact(DEPT, "Sales", 2026, None, D(1200), "USD"), _actuals("Sales", {1: "100"})),
    ("other year", BudgetFact(DEPT, "Sales", 2026, None, D(1200), "EUR"),
     [ActualFact(DEPT, "Sales", 2025, 1, D(100), "EUR")]),
    ("other scope", BudgetFact(BudgetScope.COST_CENTRE, "Sales", 2026, None, D(1200), "EUR"),
     _actuals("Sales", {1: "100"})),
], ids=lambda v: v if isinstance(v, str) else "")
def test_actuals_count_only_for_their_budget(case: str, budget: BudgetFact, actuals: list[ActualFact]) -> None:
    (status,) = budget_status([budget], actuals, year=2026)
    assert status.actual_to_date == 0


def test_as_of_leaves_later_months_out() -> None:
    (status,) = budget_status([BudgetFact(DEPT, "Sales", 2026, None, D(1200), "EUR")],
                              _actuals("Sales", {1: "100", 2: "100", 3: "900"}), year=2026, as_of=2)
    assert (status.through, status.actual_to_date) == (2, D(200))


def test_points_carry_every_field_and_month_start_timestamps() -> None:
    disputes = dispute_points(dispute_kpis(DISPUTES, today=TODAY))
    colt = disputes[1]
    assert colt.measurement == "finance_disputes"
    assert dict(colt.tags) == {"carrier": "Colt", "month": "2026-10", "currency": "EUR"}
    assert colt.time_ns == int(dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp()) * 10**9
    assert colt.fields["pending"] == 140.0 and colt.fields["open_31_60"] == 40.0
    assert disputes[0].fields["recovery_rate_pct"] == 100.0
    assert dispute_points(dispute_kpis([DISPUTES[0]], today=TODAY))[0].fields["recovery_rate_pct"] == -1.0
    (payment,) = payment_points([PaymentKpi("Colt", "2026-11", "EUR", invoices=1, paid_on_time=1,
                                            late_fees_avoided=D("1.50"))])
    assert payment.measurement == "finance_payments" and payment.fields["late_fees_avoided"] == 1.5
    (budget,) = budget_points(budget_status([BudgetFact(BudgetScope.COST_CENTRE, "CC-1", 2026, None, D(12),
                                                        "EUR")], [], year=2026))
    assert dict(budget.tags) == {"scope": "cost_centre", "cost_centre": "CC-1", "year": "2026", "currency": "EUR"}
    assert budget.fields["through_month"] == 0 and budget.fields["budget"] == 12.0
