"""Termination terms: the earliest penalty-free date and the early-termination fee (pure; the arithmetic is
written out per case)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from billing_etl.config import ContractsFile
from billing_etl.termination import termination_terms

D = Decimal
d = dt.date

TERM = {"start": "2025-01-01", "months": 24, "notice_days": 90}  # ends 2026-12-31, deadline 2026-10-02


def _contract(term: dict[str, Any] | None, **extra: Any) -> Any:
    data = {"line": "L", "carrier": "C", "currency": "EUR", "mrc": 500, **extra}
    if term is not None:
        data["term"] = term
    return ContractsFile.model_validate({"contracts": [data]}).contracts[0]


CASES = [
    pytest.param(
        _contract(TERM),
        d(2026, 6, 1),
        d(2026, 7, 15),
        # notice ends 2026-08-30, before the term's end 2026-12-31: earliest = the term's end.
        # Remaining 2026-07-16..2026-12-31: July 16/31 = 0.516129… + Aug–Dec 5 = 5.5161 months;
        # 100 % × 500 × 5.5161 = 2758.05.
        {
            "earliest_free_date": d(2026, 12, 31),
            "term_end": d(2026, 12, 31),
            "notice_deadline": d(2026, 10, 2),
            "early": True,
            "months_remaining": D("5.5161"),
            "fee": D("2758.05"),
        },
        id="within-term",
    ),
    pytest.param(
        _contract(TERM),
        d(2026, 6, 1),
        d(2026, 12, 31),
        {"earliest_free_date": d(2026, 12, 31), "early": False, "months_remaining": D(0), "fee": D("0.00")},
        id="at-the-terms-end",
    ),
    pytest.param(
        _contract(TERM),
        d(2027, 2, 1),
        d(2027, 6, 30),
        # the term ended on 2026-12-31 and does not renew: notice 2027-02-01 + 90 days = 2027-05-02.
        {"earliest_free_date": d(2027, 5, 2), "term_end": d(2026, 12, 31), "early": False, "fee": D("0.00")},
        id="after-term",
    ),
    pytest.param(
        _contract({**TERM, "auto_renew": True, "renewal_months": 12}),
        d(2026, 11, 1),
        d(2027, 1, 31),
        # deadline 2026-10-02 passed: notice ends 2027-01-30, after 2026-12-31, so the contract renews to
        # 2027-12-31. Remaining 2027-02-01..2027-12-31 = 11 months; 100 % × 500 × 11 = 5500.00.
        {
            "earliest_free_date": d(2027, 12, 31),
            "term_end": d(2027, 12, 31),
            "notice_deadline": d(2026, 10, 2),
            "early": True,
            "months_remaining": D(11),
            "fee": D("5500.00"),
        },
        id="auto-renew-rollover",
    ),
    pytest.param(
        _contract({**TERM, "auto_renew": True, "renewal_months": 12}),
        d(2026, 9, 1),
        d(2026, 12, 31),
        # notice in time (deadline 2026-10-02): no renewal, leave at the term's end.
        {
            "earliest_free_date": d(2026, 12, 31),
            "term_end": d(2026, 12, 31),
            "early": False,
            "fee": D("0.00"),
        },
        id="auto-renew-notice-in-time",
    ),
    pytest.param(
        _contract(TERM),
        d(2026, 12, 1),
        d(2026, 12, 15),
        # deadline passed, no renewal: earliest = notice + 90 days = 2027-03-01; the term has 16 days left
        # (2026-12-16..31 = 16/31 = 0.5161 months): 100 % × 500 × 0.5161 = 258.05.
        {
            "earliest_free_date": d(2027, 3, 1),
            "term_end": d(2026, 12, 31),
            "early": True,
            "months_remaining": D("0.5161"),
            "fee": D("258.05"),
        },
        id="notice-deadline-passed",
    ),
    pytest.param(
        _contract(None),
        d(2026, 11, 1),
        d(2026, 12, 1),
        # no term: notice 2026-11-01 + 90 days = 2027-01-30; early, but no fee.
        {
            "earliest_free_date": d(2027, 1, 30),
            "term_end": None,
            "notice_deadline": None,
            "early": True,
            "fee": D("0.00"),
        },
        id="no-term",
    ),
    pytest.param(
        _contract({**TERM, "early_termination_pct": 0}),
        d(2026, 6, 1),
        d(2026, 7, 15),
        {
            "earliest_free_date": d(2026, 12, 31),
            "early": True,
            "months_remaining": D("5.5161"),
            "fee": D("0.00"),
        },
        id="zero-pct",
    ),
    pytest.param(
        _contract(
            {**TERM, "early_termination_pct": 50},
            proration="thirtieths",
            discounts=[{"name": "loyalty", "percent": 10}],
        ),
        d(2026, 6, 1),
        d(2026, 7, 15),
        # thirtieths: July 16 days → 16/30 = 0.5333 + 5 = 5.5333 months; MRC after discount 450;
        # 50 % × 450 × 5.5333 = 1244.99 (1244.9925).
        {"early": True, "months_remaining": D("5.5333"), "fee": D("1244.99")},
        id="thirtieths-half-pct-after-discount",
    ),
    pytest.param(
        _contract(TERM, changes=[{"effective": "2026-07-01", "mrc": 800}]),
        d(2026, 6, 1),
        d(2026, 7, 15),
        # the MRC in force on the requested date: 800 × 5.5161 = 4412.88.
        {"early": True, "fee": D("4412.88")},
        id="mrc-in-force-after-a-change",
    ),
]


@pytest.mark.parametrize(("contract", "notice", "requested", "expected"), CASES)
def test_termination_terms(
    contract: Any, notice: dt.date, requested: dt.date, expected: dict[str, Any]
) -> None:
    terms = termination_terms(contract, notice_date=notice, requested_date=requested)
    assert {k: getattr(terms, k) for k in expected} == expected, terms.explanation
    assert terms.currency == "EUR"


def test_explanation_writes_out_the_fee_arithmetic() -> None:
    terms = termination_terms(_contract(TERM), notice_date=d(2026, 6, 1), requested_date=d(2026, 7, 15))
    assert (
        "100 % × MRC 500.00 EUR × 5.5161 months remaining to 2026-12-31 (actual_days) = fee 2,758.05 EUR"
        in (terms.explanation)
    )
