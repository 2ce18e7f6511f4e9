"""Credit rows are matched to the open dispute they answer (web/credits/matching.py, pure: no database).

Each signal (circuit, amount equal / within tolerance / partial / larger, reference, service period) is shown
to add its points and reason; another carrier or currency never matches; the assignment gives a credit row to at
most one dispute, the best, ties to the oldest dispute with the others named; shuffling the inputs changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linewatch.choices import ChargeType
from web.credits.matching import (
    MIN_SCORE,
    POINTS_AMOUNT_EQUAL,
    POINTS_AMOUNT_LARGER,
    POINTS_AMOUNT_PARTIAL,
    POINTS_CIRCUIT,
    POINTS_PERIOD,
    POINTS_REFERENCE,
    CreditLine,
    OpenDispute,
    propose,
    reference_in,
    score,
)

D = Decimal
NOV_1, NOV_30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def credit(**kw: object) -> CreditLine:
    values: dict[str, object] = {"row_id": 1, "carrier": "Orange Business", "currency": "EUR",
                                 "charge_type": ChargeType.CREDIT, "amount": D("-50.00"), "circuit_id": "",
                                 "description": "", "period_start": None, "period_end": None}
    values.update(kw)
    return CreditLine(**values)  # type: ignore[arg-type]


def dispute(**kw: object) -> OpenDispute:
    values: dict[str, object] = {"dispute_id": 3, "reference": "DSP-3", "carrier": "Orange Business",
                                 "currency": "EUR", "claimed_amount": D("50.00"),
                                 "circuit_ids": frozenset({"OBS-FR-77812"}), "periods": frozenset({"2026-11"})}
    values.update(kw)
    return OpenDispute(**values)  # type: ignore[arg-type]


# -- each signal ---------------------------------------------------------------------------------------------------

SIGNALS = [
    # (id, credit overrides, dispute overrides, score, reasons)
    ("amount-equal-alone", {}, {}, POINTS_AMOUNT_EQUAL, ["amount 50.00 of 50.00 claimed"]),
    ("amount-within-tolerance", {"amount": D("-49.60")}, {}, POINTS_AMOUNT_EQUAL,
     ["amount 49.60 of 50.00 claimed"]),
    ("circuit-and-partial", {"amount": D("-20.00"), "circuit_id": "OBS-FR-77812"}, {},
     POINTS_CIRCUIT + POINTS_AMOUNT_PARTIAL, ["circuit OBS-FR-77812", "amount 20.00 of 50.00 claimed (partial)"]),
    ("circuit-case-and-spaces", {"amount": D("-20.00"), "circuit_id": " obs-fr-77812 "}, {},
     POINTS_CIRCUIT + POINTS_AMOUNT_PARTIAL, ["circuit OBS-FR-77812", "amount 20.00 of 50.00 claimed (partial)"]),
    ("circuit-named-in-description", {"amount": D("-20.00"), "description": "Avoir OBS-FR-77812 SLA"}, {},
     POINTS_CIRCUIT + POINTS_AMOUNT_PARTIAL, ["circuit OBS-FR-77812", "amount 20.00 of 50.00 claimed (partial)"]),
    ("larger-than-claim", {"amount": D("-80.00"), "circuit_id": "OBS-FR-77812"}, {},
     POINTS_CIRCUIT + POINTS_AMOUNT_LARGER, ["circuit OBS-FR-77812", "amount 80.00 of 50.00 claimed (more than claimed)"]),
    ("reference", {"amount": D("-20.00"), "description": "Avoir suite à réclamation DSP-3"}, {},
     POINTS_REFERENCE + POINTS_AMOUNT_PARTIAL, ["reference DSP-3", "amount 20.00 of 50.00 claimed (partial)"]),
    ("reference-spelt-loosely", {"amount": D("-20.00"), "description": "credit ref dsp 3"}, {},
     POINTS_REFERENCE + POINTS_AMOUNT_PARTIAL, ["reference DSP-3", "amount 20.00 of 50.00 claimed (partial)"]),
    ("period-overlap", {"period_start": dt.date(2026, 10, 15), "period_end": dt.date(2026, 11, 14)}, {},
     POINTS_AMOUNT_EQUAL + POINTS_PERIOD, ["amount 50.00 of 50.00 claimed", "period 2026-11"]),
    ("every-signal", {"circuit_id": "OBS-FR-77812", "description": "Avoir DSP-3", "period_start": NOV_1,
                      "period_end": NOV_30}, {}, 100,
     ["reference DSP-3", "circuit OBS-FR-77812", "amount 50.00 of 50.00 claimed", "period 2026-11"]),
    ("positive-credit-stated-as-such", {"amount": D("50.00")}, {}, POINTS_AMOUNT_EQUAL,
     ["amount 50.00 of 50.00 claimed"]),
    ("negative-adjustment", {"charge_type": ChargeType.ADJUSTMENT, "amount": D("-50.00")}, {}, POINTS_AMOUNT_EQUAL,
     ["amount 50.00 of 50.00 claimed"]),
    ("carrier-name-case", {"carrier": "orange business"}, {}, POINTS_AMOUNT_EQUAL, ["amount 50.00 of 50.00 claimed"]),
    ("krw-no-minor-unit", {"amount": D("-120000"), "currency": "KRW"},
     {"currency": "KRW", "claimed_amount": D("120000")}, POINTS_AMOUNT_EQUAL, ["amount 120,000 of 120,000 claimed"]),
]


@pytest.mark.parametrize(("case", "credit_kw", "dispute_kw", "points", "reasons"), SIGNALS,
                         ids=[s[0] for s in SIGNALS])
def test_each_signal_adds_its_points_and_reason(case: str, credit_kw: dict, dispute_kw: dict, points: int,
                                                reasons: list[str]) -> None:
    match = score(credit(**credit_kw), dispute(**dispute_kw), tolerance_pct=1.0)
    assert match is not None
    assert (match.score, list(match.reasons)) == (points, reasons)


NEVER = [
    ("other-carrier", {"carrier": "Colt", "circuit_id": "OBS-FR-77812", "description": "DSP-3"}, {}),
    ("other-currency", {"currency": "USD", "circuit_id": "OBS-FR-77812", "description": "DSP-3"}, {}),
    ("positive-adjustment-is-a-charge", {"charge_type": ChargeType.ADJUSTMENT, "amount": D("50.00"),
                                         "description": "DSP-3"}, {}),
    ("zero-credit", {"amount": D("0.00"), "description": "DSP-3"}, {}),
    ("not-a-credit-type", {"charge_type": ChargeType.MONTHLY_RECURRING, "amount": D("-50.00"),
                           "description": "DSP-3"}, {}),
    ("partial-in-the-month-only", {"amount": D("-20.00"), "period_start": NOV_1, "period_end": NOV_30}, {}),
    ("outside-tolerance-and-nothing-else", {"amount": D("-80.00")}, {}),
    ("reference-of-another-dispute", {"amount": D("-20.00"), "description": "DSP-33"}, {}),
]


@pytest.mark.parametrize(("case", "credit_kw", "dispute_kw"), NEVER, ids=[n[0] for n in NEVER])
def test_no_match(case: str, credit_kw: dict, dispute_kw: dict) -> None:
    assert score(credit(**credit_kw), dispute(**dispute_kw), tolerance_pct=1.0) is None


@pytest.mark.parametrize(("amount", "tolerance_pct", "equal"), [
    (D("-49.50"), 1.0, True), (D("-49.49"), 1.0, False), (D("-50.50"), 1.0, True), (D("-50.51"), 1.0, False),
    (D("-49.99"), 0.0, False), (D("-45.00"), 10.0, True)], ids=lambda v: str(v))
def test_tolerance_is_a_share_of_the_claim(amount: Decimal, tolerance_pct: float, equal: bool) -> None:
    match = score(credit(amount=amount, circuit_id="OBS-FR-77812"), dispute(), tolerance_pct=tolerance_pct)
    assert match is not None
    assert (match.score == POINTS_CIRCUIT + POINTS_AMOUNT_EQUAL) is equal
    assert match.covers_claim is (equal or -amount > D("50.00"))


@pytest.mark.parametrize(("amount", "recovered", "covers"), [
    (D("-50.00"), D("50.00"), True), (D("-20.00"), D("20.00"), False), (D("-80.00"), D("50.00"), True),
    (D("-49.80"), D("49.80"), True)], ids=["equal", "partial", "capped-at-claim", "within-tolerance"])
def test_recovered_is_the_credit_capped_at_the_claim(amount: Decimal, recovered: Decimal, covers: bool) -> None:
    match = score(credit(amount=amount, circuit_id="OBS-FR-77812"), dispute(), tolerance_pct=1.0)
    assert match is not None
    assert (match.recovered_amount, match.covers_claim) == (recovered, covers)


@pytest.mark.parametrize(("text", "found"), [
    ("DSP-3", True), ("dsp-3", True), ("DSP3", True), ("DSP 3", True), ("DSP#3", True), ("DSP-003", True),
    ("ref:DSP-3.", True), ("DSP-33", False), ("DSP-30", False), ("XDSP-3", False), ("DSP-13", False), ("", False),
])
def test_reference_is_found_as_itself(text: str, found: bool) -> None:
    assert reference_in("DSP-3", text) is found


def test_min_score_is_one_identifying_signal() -> None:
    assert MIN_SCORE == POINTS_AMOUNT_EQUAL == POINTS_CIRCUIT
    assert POINTS_AMOUNT_PARTIAL + POINTS_PERIOD < MIN_SCORE
    assert POINTS_REFERENCE + POINTS_CIRCUIT + POINTS_AMOUNT_EQUAL + POINTS_PERIOD == 100


# -- the assignment ------------------------------------------------------------------------------------------------


def test_best_score_wins() -> None:
    by_amount = dispute(dispute_id=4, reference="DSP-4", circuit_ids=frozenset({"OTHER-1"}))
    by_reference = dispute(dispute_id=7, reference="DSP-7", claimed_amount=D("90.00"),
                           circuit_ids=frozenset({"OTHER-2"}))
    matches = propose([credit(description="avoir DSP-7")], [by_amount, by_reference])
    assert [(m.row_id, m.dispute_id, m.score) for m in matches] == [(1, 7, POINTS_REFERENCE + POINTS_AMOUNT_PARTIAL)]


def test_one_credit_row_to_at_most_one_dispute_and_one_dispute_may_get_several_rows() -> None:
    two_circuits = dispute(circuit_ids=frozenset({"C-1", "C-2"}), claimed_amount=D("100.00"))
    rows = [credit(row_id=10, circuit_id="C-1", amount=D("-60.00")),
            credit(row_id=11, circuit_id="C-2", amount=D("-40.00")),
            credit(row_id=12, circuit_id="C-9", amount=D("-1.00"))]
    matches = propose(rows, [two_circuits, dispute(dispute_id=5, reference="DSP-5", circuit_ids=frozenset({"C-1"}))])
    assert [(m.row_id, m.dispute_id) for m in matches] == [(10, 3), (11, 3)]


def test_tie_goes_to_the_oldest_dispute_and_names_the_others() -> None:
    disputes = [dispute(dispute_id=9, reference="DSP-9"), dispute(dispute_id=3), dispute(dispute_id=5,
                                                                                        reference="DSP-5")]
    (match,) = propose([credit(circuit_id="OBS-FR-77812")], disputes)
    assert (match.dispute_id, match.tied_with) == (3, (5, 9))
    assert match.reasons[-1] == "tied with DSP-5, DSP-9"


def test_unmatched_rows_are_left_out() -> None:
    assert propose([credit(carrier="Colt")], [dispute()]) == []
    assert propose([credit()], []) == []


# -- shuffling changes nothing -------------------------------------------------------------------------------------

CARRIERS = ("Orange Business", "Colt")
CIRCUITS = ("C-1", "C-2", "C-3", "")
AMOUNTS = st.decimals(min_value=D("-200"), max_value=D("50"), places=2, allow_nan=False, allow_infinity=False)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[CreditLine], list[OpenDispute]]:
    n_disputes = draw(st.integers(0, 6))
    disputes = [OpenDispute(
        dispute_id=i, reference=f"DSP-{i}", carrier=draw(st.sampled_from(CARRIERS)),
        currency=draw(st.sampled_from(("EUR", "USD"))),
        claimed_amount=draw(st.decimals(min_value=D("1"), max_value=D("150"), places=2)),
        circuit_ids=frozenset(draw(st.sets(st.sampled_from(CIRCUITS[:3]), max_size=2))),
        periods=frozenset(draw(st.sets(st.sampled_from(("2026-10", "2026-11")), max_size=2))))
        for i in range(1, n_disputes + 1)]
    credits = [CreditLine(
        row_id=100 + i, carrier=draw(st.sampled_from(CARRIERS)), currency=draw(st.sampled_from(("EUR", "USD"))),
        charge_type=draw(st.sampled_from(CREDIT_TYPES)), amount=draw(AMOUNTS),
        circuit_id=draw(st.sampled_from(CIRCUITS)),
        description=draw(st.sampled_from(["", "avoir", "DSP-1", "DSP-2 C-3", "ref DSP-12"])),
        period_start=draw(st.sampled_from([None, dt.date(2026, 10, 1), dt.date(2026, 11, 1)])),
        period_end=draw(st.sampled_from([None, dt.date(2026, 11, 30)])))
        for i in range(draw(st.integers(0, 8)))]
    return credits, disputes


CREDIT_TYPES = (ChargeType.CREDIT, ChargeType.ADJUSTMENT)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), seed=st.integers(0, 2**32 - 1))
def test_shuffling_the_inputs_never_changes_the_result(world: tuple[list[CreditLine], list[OpenDispute]],
                                                       seed: int) -> None:
    credits, disputes = world
    expected = propose(credits, disputes)
    rng = random.Random(seed)
    shuffled_credits, shuffled_disputes = credits[:], disputes[:]
    rng.shuffle(shuffled_credits)
    rng.shuffle(shuffled_disputes)
    assert propose(shuffled_credits, shuffled_disputes) == expected
    assert len({m.row_id for m in expected}) == len(expected)  # a row to at most one dispute
    assert all(MIN_SCORE <= m.score <= 100 and m.recovered_amount <= m.credited for m in expected)
