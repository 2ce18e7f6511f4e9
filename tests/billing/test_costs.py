"""Cost allocation, payments due and SLA credits: pure money arithmetic, figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from billing_support import CONTRACTS, OCT, SEP, D, billing_config, invoice, month, row, usage

from billing_etl.audit import Auditor, Finding, sla_credit
from billing_etl.config import ContractsFile
from billing_etl.costs import line_costs, payments_due, spread
from billing_etl.model import Period
from linewatch.choices import AuditRule, ChargeType

MRC, TAX, SUR = ChargeType.MONTHLY_RECURRING, ChargeType.TAX, ChargeType.SURCHARGE
OCT_1, OCT_31 = month(OCT)


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        pytest.param("20.00", {"a": "100", "b": "300"}, {"a": "5.00", "b": "15.00"}, id="in-proportion"),
        pytest.param(
            "10.00",
            {"a": "1", "b": "1", "c": "1"},
            {"a": "3.34", "b": "3.33", "c": "3.33"},
            id="remainder-cent",
        ),
        pytest.param(
            "-9.00", {"a": "1", "b": "2"}, {"a": "-3.00", "b": "-6.00"}, id="negative-account-credit"
        ),
        pytest.param("5.00", {"a": "0"}, {}, id="nothing-to-spread-over"),
    ],
)
def test_spread_splits_exactly_in_proportion(amount: str, weights: dict, expected: dict) -> None:
    shares = spread(D(amount), {k: D(v) for k, v in weights.items()})
    assert shares == {k: D(v) for k, v in expected.items()}
    if shares:
        assert sum(shares.values()) == D(amount)


def _costs(invoices: list) -> tuple[dict[str, tuple[Decimal, Decimal]], dict]:
    auditor = Auditor(config=billing_config(), invoices=invoices, period=OCT, usage={})
    lines, unallocated = line_costs(auditor, [])
    return {lc.line: (lc.billed_amount, lc.allocated_amount) for lc in lines}, unallocated


def test_taxes_and_surcharges_follow_the_line_amounts_of_their_invoice() -> None:
    rows = [
        row("A", MRC, "100.00", circuit="C-1", start=OCT_1, end=OCT_31),
        row("A", MRC, "300.00", circuit="C-2", start=OCT_1, end=OCT_31),
        row("A", TAX, "20.00"),
        row("A", SUR, "8.00"),
    ]
    # Invoice B: the first-invoice proration (Oct 11-31, 210.00) and November in advance (310.00); its
    # 52.00 tax goes 21.00 to October's proration and 31.00 to November (allocated when November is run).
    advance = [
        row("B", MRC, "210.00", circuit="C-5", start=dt.date(2026, 10, 11), end=OCT_31),
        row("B", MRC, "310.00", circuit="C-5", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)),
        row("B", TAX, "52.00"),
    ]
    only_tax = [row("C", TAX, "4.50")]
    costs, unallocated = _costs([invoice("A", rows), invoice("B", advance), invoice("C", only_tax)])
    assert costs["L-FLAT"] == (D("100.00"), D("7.00"))
    assert costs["L-BURST"] == (D("300.00"), D("21.00"))
    assert costs["L-NEW"] == (D("210.00"), D("21.00"))
    assert unallocated == {("Acme", "EUR"): D("4.50")}


def test_payments_due_lists_the_period_invoices_by_due_date() -> None:
    def inv(number: str, day: dt.date, due_days: int, amount: str) -> object:
        r = row(number, TAX, amount, invoice_date=day).model_copy(
            update={"due_date": day + dt.timedelta(days=due_days)}
        )
        return invoice(number, [r])

    invoices = [
        inv("LATE", dt.date(2026, 10, 5), 60, "10.00"),
        inv("SOON", dt.date(2026, 10, 30), 10, "20.00"),
        inv("MID", dt.date(2026, 10, 20), 30, "30.00"),
        inv("SEPT", SEP.last_day, 30, "40.00"),
    ]
    finding = Finding(AuditRule.LATE_FEE, "Acme", "MID", "", "", D("30.00"), "late fee", currency="EUR")
    due = payments_due(invoices, OCT, [finding])
    assert [(p.due_date, p.invoice_number, p.amount, p.disputed_amount, p.findings) for p in due] == [
        ("2026-11-09", "SOON", D("20.00"), D("0.00"), 0),
        ("2026-11-19", "MID", D("30.00"), D("30.00"), 1),
        ("2026-12-04", "LATE", D("10.00"), D("0.00"), 0),
    ]


@pytest.mark.parametrize(
    ("availability", "credit"),
    [
        pytest.param(99.95, "0.00", id="above-target"),
        pytest.param(99.9, "0.00", id="exactly-the-target-earns-nothing"),
        pytest.param(99.89, "20.00", id="first-tier-10pct"),
        pytest.param(99.0, "20.00", id="second-tier-starts-strictly-below"),
        pytest.param(98.99, "50.00", id="second-tier-30pct-capped-at-25pct"),
        pytest.param(None, "0", id="no-data-no-credit"),
    ],
)
def test_sla_credit_tiers_and_cap(availability: float | None, credit: str) -> None:
    contract = ContractsFile.model_validate(CONTRACTS).by_line()[
        "L-BURST"
    ]  # MRC 200, tiers 10/30 %, cap 25 %
    owed, _ = sla_credit(contract, usage("L-BURST", availability_pct=availability), Period(2026, 10))
    assert owed == D(credit)


def test_departments_never_add_up_different_currencies() -> None:
    from billing_etl.costs import LineCost, department_costs

    def cost(line: str, currency: str, billed: str) -> LineCost:
        return LineCost(
            line, "Acme", line, "A", "Sales", "CC-1", currency, D(billed), D("1.00"), D(billed),
            D(0), None, None, None, None, None, None, None,
        )  # fmt: skip

    rows = department_costs([cost("a", "EUR", "10.00"), cost("b", "USD", "20.00"), cost("c", "EUR", "5.00")])
    assert [(d.department, d.currency, d.lines, d.billed_amount, d.total_amount) for d in rows] == [
        ("Sales", "EUR", 2, D("15.00"), D("17.00")),
        ("Sales", "USD", 1, D("20.00"), D("21.00")),
    ]
