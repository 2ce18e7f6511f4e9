"""Each audit rule fires exactly where it should and nowhere else.

A clean baseline (two months of correct invoices for five lines with flat, burstable and volume contracts, a
line terminated mid-month and one installed mid-month) yields no finding; each case plants one problem (or a
legitimate look-alike) and states the complete set of findings expected.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from billing_support import CONTRACTS, OCT, SEP, D, billing_config, invoice, month, row, usage

from billing_etl.audit import Auditor, RejectedFile, expected_mrc
from billing_etl.config import Contract
from billing_etl.model import Invoice, InvoiceLine, Period
from billing_etl.store import Conflict
from linewatch.choices import AuditRule, ChargeType, LineStatus

MRC, USE, OTC, TAX, CRD, LATE = (
    ChargeType.MONTHLY_RECURRING,
    ChargeType.USAGE,
    ChargeType.ONE_TIME,
    ChargeType.TAX,
    ChargeType.CREDIT,
    ChargeType.LATE_FEE,
)
OCT_1, OCT_31 = month(OCT)


@dataclass
class World:
    oct_rows: list[InvoiceLine]
    sep_rows: list[InvoiceLine]
    extra: list[Invoice] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    contracts: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(CONTRACTS))
    conflicts: list[Conflict] = field(default_factory=list)
    oct_total: Decimal | None | str = "auto"
    rejected: list[RejectedFile] = field(default_factory=list)


def baseline() -> World:
    oct_rows = [
        row("OCT-1", MRC, "100.00", circuit="C-1", start=OCT_1, end=OCT_31),
        row("OCT-1", MRC, "200.00", circuit="C-2", start=OCT_1, end=OCT_31),
        row("OCT-1", USE, "100.00", circuit="C-2", start=OCT_1, end=OCT_31, qty="50", price="2"),
        row("OCT-1", MRC, "300.00", circuit="C-3", start=OCT_1, end=OCT_31),
        row("OCT-1", USE, "50.00", circuit="C-3", start=OCT_1, end=OCT_31, qty="500", price="0.10"),
        row("OCT-1", MRC, "48.39", circuit="C-4", start=OCT_1, end=dt.date(2026, 10, 15)),
        row("OCT-1", MRC, "210.00", circuit="C-5", start=dt.date(2026, 10, 11), end=OCT_31),
        row("OCT-1", TAX, "20.00"),
    ]
    sep_1, sep_30 = month(SEP)
    sep = {"invoice_date": sep_30}
    sep_rows = [
        row("SEP-1", MRC, "100.00", circuit="C-1", start=sep_1, end=sep_30, **sep),
        row("SEP-1", MRC, "200.00", circuit="C-2", start=sep_1, end=sep_30, **sep),
        row("SEP-1", USE, "100.00", circuit="C-2", start=sep_1, end=sep_30, **sep),
        row("SEP-1", MRC, "300.00", circuit="C-3", start=sep_1, end=sep_30, **sep),
        row("SEP-1", USE, "50.00", circuit="C-3", start=sep_1, end=sep_30, **sep),
    ]
    use = {
        "L-FLAT": usage("L-FLAT", p95_bps=50e6),
        "L-BURST": usage("L-BURST", p95_bps=150e6),
        "L-VOL": usage("L-VOL", p95_bps=20e6, in_bytes=1000e9, out_bytes=500e9),
        "L-TERM": usage("L-TERM", p95_bps=5e6),
        "L-NEW": usage("L-NEW", p95_bps=5e6),
    }
    return World(oct_rows=oct_rows, sep_rows=sep_rows, usage=use)


def audit(world: World, period: Period = OCT) -> set[tuple[str, str, str]]:
    from billing_etl.config import ContractsFile

    config = billing_config(world.contracts)
    config = type(config)(
        carriers=config.carriers,
        contracts=ContractsFile.model_validate(world.contracts),
        inventory=config.inventory,
        invoice_dir=config.invoice_dir,
    )
    invoices = [invoice("SEP-1", world.sep_rows)]
    if world.oct_rows:
        invoices.append(invoice("OCT-1", world.oct_rows, stated_total=world.oct_total))
    findings = Auditor(
        config=config,
        invoices=invoices + world.extra,
        period=period,
        usage=world.usage,
        conflicts=world.conflicts,
        rejected=world.rejected,
    ).run()
    return {(f.rule.value, f.line, f.invoice_number) for f in findings}


def _set_contract(world: World, line: str, **changes: Any) -> None:
    for c in world.contracts["contracts"]:
        if c["line"] == line:
            c.update(changes)


def _replace(world: World, index: int, **changes: Any) -> None:
    world.oct_rows[index] = world.oct_rows[index].model_copy(update=changes)


def test_clean_baseline_has_no_finding() -> None:
    """The reference world is correct: any finding here would be a false positive in every case below."""
    assert audit(baseline()) == set()


Case = Callable[[World], None]
REJECTED = RejectedFile("Acme", "acme-2026-10.csv", "missing column 'amount'")

CASES: list[tuple[str, Case, set[tuple[str, str, str]]]] = [
    (
        "rate_mismatch_full_month",
        lambda w: _replace(w, 0, amount=D("110.00")),
        {("rate_mismatch", "L-FLAT", "OCT-1")},
    ),
    (
        "rate_mismatch_discount_not_applied",
        lambda w: _set_contract(
            w, "L-FLAT", discounts=[{"name": "promo", "percent": 10, "valid_from": "2026-01-01"}]
        ),
        {("rate_mismatch", "L-FLAT", "OCT-1")},
    ),
    (
        "expired_discount_is_not_expected",
        lambda w: _set_contract(
            w, "L-FLAT", discounts=[{"name": "old", "amount": 10, "valid_to": "2026-09-30"}]
        ),
        set(),
    ),
    (
        "after_termination",
        lambda w: _replace(w, 5, amount=D("100.00"), period_end=OCT_31),
        {("after_termination", "L-TERM", "OCT-1")},
    ),
    (
        "before_install",
        lambda w: _replace(w, 6, amount=D("310.00"), period_start=OCT_1),
        {("before_install", "L-NEW", "OCT-1")},
    ),
    (
        "proration_differs_from_actual_days",
        lambda w: _replace(w, 6, amount=D("217.00")),
        {("proration_mismatch", "L-NEW", "OCT-1")},
    ),
    (
        "proration_by_thirtieths_when_the_contract_says_so",
        lambda w: (_replace(w, 6, amount=D("217.00")), _set_contract(w, "L-NEW", proration="thirtieths")),
        set(),
    ),
    (
        "duplicate_on_another_invoice",
        lambda w: w.extra.append(
            invoice("OCT-2", [row("OCT-2", MRC, "100.00", circuit="C-1", start=OCT_1, end=OCT_31)])
        ),
        {("duplicate_charge", "L-FLAT", "OCT-2"), ("month_over_month", "L-FLAT", "")},
    ),
    (
        "duplicate_on_the_same_invoice",
        lambda w: w.oct_rows.append(row("OCT-1", MRC, "300.00", circuit="C-3", start=OCT_1, end=OCT_31)),
        {("duplicate_charge", "L-VOL", "OCT-1"), ("month_over_month", "L-VOL", "")},
    ),
    (
        "first_invoice_proration_plus_next_month_in_advance_is_not_a_duplicate",
        lambda w: w.oct_rows.append(
            row("OCT-1", MRC, "310.00", circuit="C-5", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
        ),
        set(),
    ),
    (
        "termination_month_proration_is_not_a_month_over_month_change",
        lambda w: w.sep_rows.append(
            row(
                "SEP-1",
                MRC,
                "100.00",
                circuit="C-4",
                start=SEP.first_day,
                end=SEP.last_day,
                invoice_date=SEP.last_day,
            )
        ),
        set(),
    ),
    (
        "ghost_circuit",
        lambda w: w.oct_rows.append(row("OCT-1", MRC, "75.00", circuit="C-999", start=OCT_1, end=OCT_31)),
        {("ghost_circuit", "", "OCT-1")},
    ),
    ("active_line_without_charge", lambda w: w.oct_rows.pop(0), {("unbilled_line", "L-FLAT", "")}),
    (
        "carrier_file_rejected_is_reported_once_not_per_line",
        lambda w: (w.oct_rows.clear(), w.rejected.append(REJECTED)),
        {("invoice_not_imported", "", "")},
    ),
    (
        "rejected_file_of_a_carrier_billed_for_the_period_is_no_finding",
        lambda w: w.rejected.append(REJECTED),
        set(),
    ),
    (
        "late_fee",
        lambda w: w.oct_rows.append(row("OCT-1", LATE, "15.00", description="late payment")),
        {("late_fee", "", "OCT-1")},
    ),
    (
        "usage_billed_above_measured_95th_percentile",
        lambda w: _replace(w, 2, amount=D("150.00"), quantity=D("75")),
        {("usage_mismatch", "L-BURST", "OCT-1")},
    ),
    ("usage_within_tolerance", lambda w: _replace(w, 2, amount=D("100.50"), unit_price=D("2.01")), set()),
    (
        "volume_overage_differs",
        lambda w: _replace(w, 4, amount=D("80.00"), quantity=D("800")),
        {("usage_mismatch", "L-VOL", "OCT-1")},
    ),
    (
        "volume_in_binary_gb",
        lambda w: _set_contract(
            w,
            "L-VOL",
            billing={"model": "volume_quota", "included_gb": 1000, "price_per_gb": 0.10, "gb_unit": "binary"},
        ),
        {("usage_mismatch", "L-VOL", "OCT-1")},
    ),
    (
        "month_over_month_jump",
        lambda w: w.oct_rows.append(row("OCT-1", OTC, "50.00", circuit="C-1", description="router swap")),
        {("month_over_month", "L-FLAT", "")},
    ),
    (
        "sla_credit_owed",
        lambda w: w.usage.__setitem__(
            "L-BURST", usage("L-BURST", p95_bps=150e6, availability_pct=99.5, down_minutes=223.2)
        ),
        {("sla_credit_owed", "L-BURST", "")},
    ),
    (
        "sla_credit_already_credited",
        lambda w: (
            w.usage.__setitem__("L-BURST", usage("L-BURST", p95_bps=150e6, availability_pct=99.5)),
            w.oct_rows.append(row("OCT-1", CRD, "-20.00", circuit="C-2", start=OCT_1, end=OCT_31)),
        ),
        set(),
    ),
    (
        "contract_auto_renews_with_notice_deadline_soon",
        lambda w: _set_contract(
            w, "L-FLAT", term={"start": "2024-01-01", "months": 36, "auto_renew": True, "notice_days": 90}
        ),
        {("contract_event", "L-FLAT", "")},
    ),
    (
        "contract_term_ended_without_renewal",
        lambda w: _set_contract(w, "L-FLAT", term={"start": "2020-01-01", "months": 24}),
        {("contract_event", "L-FLAT", "")},
    ),
    (
        "contract_far_from_any_deadline",
        lambda w: _set_contract(w, "L-FLAT", term={"start": "2026-01-01", "months": 36, "auto_renew": True}),
        set(),
    ),
    (
        "invoice_total_does_not_add_up",
        lambda w: setattr(w, "oct_total", D("1033.39")),
        {("invoice_arithmetic", "", "OCT-1")},
    ),
    (
        "row_quantity_times_price_differs",
        lambda w: _replace(w, 2, unit_price=D("2.50")),
        {("invoice_arithmetic", "L-BURST", "OCT-1")},
    ),
    (
        "conflicting_reimport",
        lambda w: w.conflicts.append(
            Conflict(
                carrier="Acme",
                invoice_number="OCT-1",
                source_file="OCT-1b.csv",
                stated_total=None,
                lines_total=D("999"),
                stored_source_file="OCT-1.csv",
            )
        ),
        {("invoice_conflict", "", "OCT-1")},
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [pytest.param(m, e, id=i) for i, m, e in CASES])
def test_rule_fires_exactly_where_planted(mutate: Case, expected: set[tuple[str, str, str]]) -> None:
    world = baseline()
    mutate(world)
    assert audit(world) == expected


def test_every_rule_has_a_case() -> None:
    """Every rule is planted here, or, for the voice rules (they need rated calls), in test_voice_audit."""
    from test_voice_audit import VOICE_RULES_PLANTED

    planted = {rule for _, _, expected in CASES for rule, _, _ in expected}
    assert planted | set(VOICE_RULES_PLANTED) == {r.value for r in AuditRule}


def test_next_month_in_advance_is_not_a_duplicate_in_its_own_period() -> None:
    world = baseline()
    world.oct_rows.append(
        row("OCT-1", MRC, "310.00", circuit="C-5", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
    )
    assert not {f for f in audit(world, Period(2026, 11)) if f[0] == "duplicate_charge"}


NOV = Period(2026, 11)


@pytest.mark.parametrize(
    ("nov_start", "nov_end", "expected"),
    [
        pytest.param(
            dt.date(2026, 12, 1), dt.date(2026, 12, 31), set(), id="next-invoice-bills-the-following-month"
        ),
        pytest.param(
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 30),
            {("duplicate_charge", "L-NEW", "NOV-1")},
            id="next-invoice-bills-the-advance-month-again",
        ),
        pytest.param(
            dt.date(2026, 11, 16),
            dt.date(2026, 11, 30),
            {("duplicate_charge", "L-NEW", "NOV-1")},
            id="next-invoice-bills-half-the-advance-month-again",
        ),
    ],
)
def test_first_invoice_proration_plus_month_in_advance_audited_in_the_advance_month(
    nov_start: dt.date, nov_end: dt.date, expected: set[tuple[str, str, str]]
) -> None:
    """Oct invoice: Oct 11-31 prorated + Nov in advance. In November that is neither a duplicate nor a
    month-over-month jump (310.00 after a 210.00 prorated month); billing November again on the next invoice
    is a duplicate."""
    world = baseline()
    world.oct_rows.append(
        row("OCT-1", MRC, "310.00", circuit="C-5", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
    )
    amount = str(expected_mrc(Contract(line="L-NEW", carrier="Acme", mrc=D("310")), nov_start, nov_end))
    world.extra.append(
        invoice(
            "NOV-1",
            [
                row(
                    "NOV-1",
                    MRC,
                    amount,
                    circuit="C-5",
                    start=nov_start,
                    end=nov_end,
                    invoice_date=NOV.last_day,
                )
            ],
        )
    )
    found = {f for f in audit(world, NOV) if f[1] == "L-NEW"}
    assert found == expected


@pytest.mark.parametrize(
    ("amount", "expected_stake"),
    [
        pytest.param("100.00", D("51.61"), id="full-month-after-mid-month-termination"),
        pytest.param("62.00", D("32.00"), id="share-of-the-billed-amount"),
    ],
)
def test_after_termination_puts_the_days_after_at_stake(amount: str, expected_stake: Decimal) -> None:
    world = baseline()
    _replace(world, 5, amount=D(amount), period_end=OCT_31)
    from billing_etl.config import ContractsFile

    config = billing_config(world.contracts)
    findings = Auditor(
        config=config, invoices=[invoice("OCT-1", world.oct_rows)], period=OCT, usage=world.usage
    ).run()
    stakes = [f.amount_at_stake for f in findings if f.rule is AuditRule.AFTER_TERMINATION]
    assert stakes == [expected_stake]
    assert ContractsFile  # imported for symmetry with audit()


@pytest.mark.parametrize(
    ("proration", "start", "end", "expected"),
    [
        pytest.param("actual_days", "2026-10-01", "2026-10-31", "310.00", id="full-month"),
        pytest.param("actual_days", "2026-10-11", "2026-10-31", "210.00", id="actual-21-of-31"),
        pytest.param("thirtieths", "2026-10-11", "2026-10-31", "217.00", id="thirtieths-21-of-30"),
        pytest.param("thirtieths", "2026-02-01", "2026-02-28", "310.00", id="thirtieths-full-february"),
        pytest.param("thirtieths", "2026-02-15", "2026-02-28", "144.67", id="thirtieths-half-february"),
        pytest.param("actual_days", "2026-10-20", "2026-11-09", "213.00", id="spanning-two-months"),
    ],
)
def test_expected_mrc_follows_the_proration_convention(
    proration: str, start: str, end: str, expected: str
) -> None:
    contract = Contract(line="L", carrier="Acme", mrc=D("310"), proration=proration)
    got = expected_mrc(contract, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert got == D(expected)


@pytest.mark.parametrize(
    ("currency", "mrc", "start", "end", "expected"),
    [
        pytest.param("BHD", "123.456", "2026-10-01", "2026-10-31", "123.456", id="bhd-full-month-in-fils"),
        pytest.param("BHD", "123.456", "2026-10-01", "2026-10-15", "59.737", id="bhd-prorated-in-fils"),
        pytest.param("KRW", "1000000", "2026-10-11", "2026-10-31", "677419", id="krw-prorated-in-won"),
        pytest.param("EUR", "310", "2026-02-15", "2026-02-28", "155.00", id="eur-in-cents"),
    ],
)
def test_expected_amounts_round_to_the_contract_currency_not_cents(
    currency: str, mrc: str, start: str, end: str, expected: str
) -> None:
    """Expected charges were rounded to cents first: a 123.456 BHD contract "expected" 123.46 BHD, and an SLA
    credit of 10 % of it 12.350 instead of 12.346."""
    from billing_etl.audit import sla_credit

    contract = Contract(line="L", carrier="Acme", currency=currency, mrc=D(mrc), sla=SLA)
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    got = expected_mrc(contract, first, last)
    assert (got, got.as_tuple().exponent) == (D(expected), D(expected).as_tuple().exponent)
    if (first, last) == (OCT.first_day, OCT.last_day):
        credit, _availability = sla_credit(contract, usage("L", availability_pct=99.0), OCT)
        assert credit == (D(expected) / 10).quantize(D(expected))


def _auditor(world: World, period: Period = OCT, invoices: list[Invoice] | None = None) -> Auditor:
    from billing_etl.config import ContractsFile

    config = billing_config(world.contracts)
    config = type(config)(
        carriers=config.carriers,
        contracts=ContractsFile.model_validate(world.contracts),
        inventory=config.inventory,
        invoice_dir=config.invoice_dir,
    )
    if invoices is None:
        invoices = [invoice("SEP-1", world.sep_rows)]
        if world.oct_rows:
            invoices.append(invoice("OCT-1", world.oct_rows, stated_total=world.oct_total))
    return Auditor(
        config=config,
        invoices=invoices + world.extra,
        period=period,
        usage=world.usage,
        conflicts=world.conflicts,
        rejected=world.rejected,
    )


def test_rejected_invoice_file_names_carrier_period_file_and_reason() -> None:
    """One finding says why the carrier's lines are unbilled, with what to accrue (every active line's
    expected MRC: 100 + 200 + 300 + 210)."""
    world = baseline()
    world.oct_rows.clear()
    world.rejected.append(REJECTED)
    [finding] = _auditor(world).run()
    assert finding.reason.startswith(
        "no invoice imported for carrier Acme in period 2026-10 "
        "(file acme-2026-10.csv rejected: missing column 'amount')"
    )
    assert "L-FLAT, L-BURST, L-VOL, L-NEW" in finding.reason
    assert (finding.carrier, finding.amount_at_stake, finding.currency) == ("Acme", D("-810.00"), "EUR")


@pytest.mark.parametrize(
    "invoice_date",
    [
        pytest.param(dt.date(2026, 10, 31), id="dated-at-the-end-of-its-month"),
        pytest.param(dt.date(2026, 11, 5), id="dated-the-month-after"),
        pytest.param(dt.date(2026, 9, 25), id="dated-the-month-before-billed-in-advance"),
    ],
)
def test_invoice_dated_outside_its_service_month_is_audited_in_that_month(invoice_date: dt.date) -> None:
    """October's invoice is checked (arithmetic) and listed in Payments due in October whatever its date,
    and in no other period: each invoice once."""
    from billing_etl.costs import payments_due

    world = baseline()
    world.oct_rows = [r.model_copy(update={"invoice_date": invoice_date}) for r in world.oct_rows]
    world.oct_rows = [
        r.model_copy(update={"due_date": invoice_date + dt.timedelta(days=30)}) for r in world.oct_rows
    ]
    world.oct_total = D("1033.39")  # rows add up to 1028.39
    for period, expected in ((OCT, {("invoice_arithmetic", "", "OCT-1")}), (SEP, set()), (NOV, set())):
        auditor = _auditor(world, period)
        findings = auditor.run()
        arithmetic = {
            (f.rule.value, f.line, f.invoice_number)
            for f in findings
            if f.rule is AuditRule.INVOICE_ARITHMETIC
        }
        assert arithmetic == expected, period
        due = [p.invoice_number for p in payments_due(auditor.invoices, period, findings)]
        assert ("OCT-1" in due) == (period == OCT), period


def test_payments_due_are_listed_by_due_date() -> None:
    from billing_etl.costs import payments_due

    world = baseline()
    late = [
        r.model_copy(update={"invoice_number": "OCT-2", "due_date": dt.date(2026, 12, 20)})
        for r in world.oct_rows[:1]
    ]
    early = [
        r.model_copy(
            update={
                "invoice_number": "OCT-3",
                "invoice_date": dt.date(2026, 11, 2),
                "due_date": dt.date(2026, 11, 10),
            }
        )
        for r in world.oct_rows[1:2]
    ]
    invoices = [invoice("OCT-2", late), invoice("OCT-3", early), invoice("OCT-1", world.oct_rows[2:])]
    due = payments_due(invoices, OCT, [])
    assert [(p.invoice_number, p.due_date) for p in due] == [
        ("OCT-3", "2026-11-10"),
        ("OCT-1", "2026-11-30"),
        ("OCT-2", "2026-12-20"),
    ]


def test_charge_for_a_quarter_counts_in_each_month_it_covers() -> None:
    """A quarter billed in advance on October's invoice is a third in each month (cost, month over month),
    not all of it in October and nothing in November and December."""
    world = baseline()
    world.oct_rows[0] = world.oct_rows[0].model_copy(
        update={"amount": D("300.00"), "period_end": dt.date(2026, 12, 31)}
    )
    shares = {
        str(p): _auditor(world, p).billed_by_line(p).get("L-FLAT") for p in (SEP, OCT, NOV, Period(2026, 12))
    }
    assert shares == {
        "2026-09": D("100.00"),
        "2026-10": D("100.00"),
        "2026-11": D("100.00"),
        "2026-12": D("100.00"),
    }
    assert ("month_over_month", "L-FLAT", "") not in audit(world)


@pytest.mark.parametrize(
    ("amount", "start", "end", "expected"),
    [
        pytest.param("100.00", "2026-10-01", "2026-10-31", {"2026-10": "100.00"}, id="one-month"),
        pytest.param(
            "100.00",
            "2026-10-01",
            "2026-12-31",
            {"2026-10": "33.34", "2026-11": "33.33", "2026-12": "33.33"},
            id="quarter-remainder-to-the-first",
        ),
        pytest.param("213.00", "2026-10-20", "2026-11-09", None, id="spanning-two-months-by-covered-share"),
    ],
)
def test_month_shares_add_up_exactly(
    amount: str, start: str, end: str, expected: dict[str, str] | None
) -> None:
    from billing_etl.audit import month_shares

    shares = month_shares(D(amount), dt.date.fromisoformat(start), dt.date.fromisoformat(end), currency="EUR")
    assert sum(shares.values()) == D(amount)
    if expected is not None:
        assert {str(p): str(v) for p, v in shares.items()} == expected
    else:  # 12 of 31 October days and 9 of 30 November days of a 310.00 MRC: 120.00 + 93.00 (expected_mrc)
        assert shares[OCT] == D("120.00") and shares[NOV] == D("93.00")


SLA = {
    "target_pct": 99.9,
    "credit_tiers": [{"below_pct": 99.9, "credit_pct": 10}],
}


@pytest.mark.parametrize(
    ("line", "changes", "expected_credit"),
    [
        pytest.param("L-NEW", {}, D("21.00"), id="installed-mid-month-credit-on-its-21-days-of-310"),
        pytest.param("L-TERM", {}, D("4.84"), id="terminated-mid-month-credit-on-its-15-days-of-100"),
        pytest.param(
            "L-TERM", {"status": LineStatus.DECOMMISSIONED}, None, id="decommissioned-is-never-credited"
        ),
        pytest.param(
            "L-TERM",
            {"termination_date": dt.date(2026, 9, 30), "status": LineStatus.DECOMMISSIONED},
            None,
            id="terminated-before-the-period",
        ),
    ],
)
def test_sla_credit_only_for_days_in_service(
    line: str, changes: dict[str, Any], expected_credit: Decimal | None
) -> None:
    """Availability is measured over the days in service (billing_etl.usage, see test_audit_periods_influxd);
    the credit is the tier's share of what those days cost, and a decommissioned line is owed nothing."""
    import dataclasses

    world = baseline()
    _set_contract(world, line, sla=SLA)
    world.usage[line] = usage(line, p95_bps=5e6, availability_pct=99.0, down_minutes=300)
    auditor = _auditor(world)
    lines = [ln.model_copy(update=changes) if ln.id == line else ln for ln in auditor.config.inventory.lines]
    inventory = auditor.config.inventory.model_copy(update={"lines": lines})
    config = dataclasses.replace(auditor.config, inventory=inventory)
    auditor = Auditor(config=config, invoices=auditor.invoices, period=OCT, usage=world.usage)
    credits = [f.amount_at_stake for f in auditor.run() if f.rule is AuditRule.SLA_CREDIT_OWED]
    assert credits == ([] if expected_credit is None else [expected_credit])


def _pairwise_duplicates(auditor: Auditor) -> list[tuple[str, str, int, Decimal, int]]:
    """The duplicate rule as first written: every row against every earlier row of its circuit and charge
    type (quadratic; kept as the definition the indexed check must match)."""
    from billing_etl.model import overlap_days

    groups: dict[tuple, list] = {}
    for c in auditor.charges:
        if c.row.circuit_id and c.row.charge_type in (MRC, USE, OTC):
            groups.setdefault((c.row.carrier, c.row.circuit_id, c.row.charge_type), []).append(c)
    out = []
    for (_carrier, _circuit, charge_type), charges in sorted(groups.items()):
        charges.sort(key=lambda c: c.order_key)
        for i, later in enumerate(charges):
            if later.period != auditor.period:
                continue
            best = None
            for earlier in charges[:i]:
                if charge_type is OTC:
                    same = (earlier.row.amount, earlier.row.description) == (
                        later.row.amount,
                        later.row.description,
                    )
                    share = later.row.amount if same else D(0)
                else:
                    shared = overlap_days(
                        earlier.row.service_start,
                        earlier.row.service_end,
                        later.row.service_start,
                        later.row.service_end,
                    )
                    share = (
                        later.row.amount
                        * shared
                        / ((later.row.service_end - later.row.service_start).days + 1)
                    )
                if share > 0 and (best is None or share > best[0]):
                    best = (share, earlier)
            if best is not None:
                e = best[1]
                out.append(
                    (
                        later.row.invoice_number,
                        later.row.circuit_id,
                        later.row.source_row,
                        best[0].quantize(D("0.01"), rounding="ROUND_HALF_UP"),
                        e.row.source_row,
                    )
                )
    return sorted(out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_duplicate_charge_check_is_indexed_and_finds_what_pairwise_did(seed: int) -> None:
    """The pairwise check took over 400 s on a 200,000-row invoice (bench: python -m bench dup-charge); the
    indexed one must find exactly the same duplicates, against the same earlier rows, on random invoices full
    of overlaps, partial months, quarters, credits and repeated one-time fees."""
    import random

    rnd = random.Random(seed)
    invoices = []
    for n in range(6):
        rows = []
        for _ in range(120):
            kind = rnd.choice([MRC, MRC, USE, OTC])
            circuit = rnd.choice(["C-1", "C-2", "C-3", "C-999"])
            amount = rnd.choice(["100.00", "50.00", "-10.00", "0.00", "33.33"])
            if kind is OTC:
                rows.append(
                    row(f"INV-{n}", OTC, amount, circuit=circuit, description=rnd.choice(["fee", "swap"]))
                )
                continue
            start = dt.date(2026, 9, 1) + dt.timedelta(days=rnd.randrange(0, 75))
            end = start + dt.timedelta(days=rnd.choice([0, 5, 14, 30, 45, 91]))
            rows.append(row(f"INV-{n}", kind, amount, circuit=circuit, start=start, end=end))
        date = dt.date(2026, 9, 20) + dt.timedelta(days=rnd.randrange(0, 60))
        invoices.append(
            invoice(f"INV-{n}", [r.model_copy(update={"invoice_date": date, "due_date": date}) for r in rows])
        )
    for period in (SEP, OCT, NOV):
        auditor = _auditor(baseline(), period, invoices=invoices)
        found = sorted(
            (
                f.invoice_number,
                f.circuit_id,
                int(f.source.rsplit(":", 1)[1]),
                f.amount_at_stake,
                int(f.reason.split("(row ")[1].split(",")[0]),
            )
            for f in auditor._duplicates()
        )
        assert found == _pairwise_duplicates(auditor), period
        assert found, period  # the random invoices do hold duplicates


@pytest.mark.parametrize(
    "invoice_date",
    [
        pytest.param(dt.date(2026, 9, 25), id="in-advance-dated-the-month-before"),
        pytest.param(dt.date(2026, 11, 5), id="in-arrears-dated-the-month-after"),
    ],
)
def test_one_time_fee_counts_in_its_invoices_service_month(invoice_date: dt.date) -> None:
    """A fee without a service period belongs to its invoice's service period, not to its date: on October's
    invoice it makes October's bill jump (100 + 50 against 100), whenever the invoice is dated."""
    world = baseline()
    world.oct_rows.append(row("OCT-1", OTC, "50.00", circuit="C-1", description="router swap"))
    world.oct_rows = [
        r.model_copy(update={"invoice_date": invoice_date, "due_date": invoice_date + dt.timedelta(days=30)})
        for r in world.oct_rows
    ]
    assert ("month_over_month", "L-FLAT", "") in audit(world)
    assert _auditor(world).billed_by_line(OCT)["L-FLAT"] == D("150.00")
