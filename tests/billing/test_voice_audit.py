"""The voice audit's pure rules: itemized calls reconciled call by call with the CDRs, and a voice line's call
charges against its re-rated calls (billing_etl.itemized, billing_etl.voice_audit).

The call frames are written in code (already rated: the rating itself is tested in tests/voice/test_rating*.py);
the end-to-end run against a real call store and influxd is tests/billing/test_voice_run_influxd.py.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from billing_support import OCT, D, invoice, month, row
from voice_billing_support import (
    T0,
    VOICE_CIRCUIT,
    VOICE_LINE,
    billed_call,
    call,
    calls_frame,
    month_of,
    voice_config,
)

from billing_etl.audit import Auditor
from billing_etl.costs import line_costs
from billing_etl.finding_ids import finding_key
from billing_etl.itemized import carrier_classes, reconcile
from linewatch.choices import AuditRule, ChargeType, DestinationClass

USE, MRC = ChargeType.USAGE, ChargeType.MONTHLY_RECURRING
OCT_1, OCT_31 = month(OCT)

# -- call by call (pure) -----------------------------------------------------------------------------------------

CDRS = [
    call("a", start_s=T0, talk_s=62, billed_s=66, cost=0.02),  # national, answered at T0 + 5
    call("b", start_s=T0 + 600, talk_s=185, billed_s=186, callee="0612345678", e164="33612345678",
         dest_class="mobile", cost=0.19),
    call("c", start_s=T0 + 1200, outcome="blocked", callee="0153001234", e164="33153001234"),
    call("d", start_s=T0 + 1800, talk_s=30, line="L-OTHER", callee="0144440000", e164="33144440000"),
]

RECONCILE_CASES = [
    pytest.param([billed_call("1", billed_s=66, amount=0.02)], [("", 0.0)], id="same-call-same-seconds"),
    pytest.param([billed_call("1", start_s=T0 + 5 + 90, billed_s=66, amount=0.02)], [("", 0.0)],
                 id="clock-skew-inside-the-window"),
    pytest.param([billed_call("1", start_s=T0 + 5 + 300, amount=0.40)], [("call_not_in_cdrs", 0.40)],
                 id="outside-the-window"),
    pytest.param([billed_call("1", callee="0142685399", e164="33142685399", amount=0.40)],
                 [("call_not_in_cdrs", 0.40)], id="another-number"),
    pytest.param([billed_call("1", billed_s=120, amount=0.12)], [("call_rounding", 0.12 * 54 / 120)],
                 id="rounded-to-whole-minutes"),
    pytest.param([billed_call("1", billed_s=66, amount=0.09, carrier_class="mobile")],
                 [("call_wrong_class", 0.09 - 0.02)], id="national-number-charged-as-mobile"),
    pytest.param([billed_call("1", billed_s=120, amount=0.15, carrier_class="mobile")],
                 [("call_wrong_class", 0.15 - 0.02)], id="wrong-class-claims-the-whole-difference-once"),
    pytest.param([billed_call("1", billed_s=66, amount=0.02), billed_call("2", start_s=T0 + 20, billed_s=66,
                                                                           amount=0.02)],
                 [("", 0.0), ("call_not_in_cdrs", 0.02)], id="the-same-call-billed-twice"),
    pytest.param([billed_call("1", start_s=T0 + 1205, callee="0153001234", e164="33153001234", amount=0.30)],
                 [("call_not_in_cdrs", 0.30)], id="a-blocked-attempt-is-no-call"),
    pytest.param([billed_call("1", start_s=T0 + 1805, callee="0144440000", e164="33144440000", amount=0.30)],
                 [("call_not_in_cdrs", 0.30)], id="a-call-of-another-line"),
    pytest.param([billed_call("1", start_s=T0 + 605, callee="0612345678", e164="33612345678", billed_s=186,
                              amount=0.19, carrier_class="mobile")], [("", 0.0)], id="mobile-call-correct"),
]


@pytest.mark.parametrize(("billed", "expected"), RECONCILE_CASES)
def test_each_billed_call_gets_one_verdict(billed: list[dict], expected: list[tuple[str, float]]) -> None:
    out = reconcile(pd.DataFrame(billed), calls_frame(CDRS), window_s=120)
    assert len(out) == len(billed)
    assert list(out["rule"]) == [rule for rule, _ in expected]
    assert list(out["amount"]) == pytest.approx([amount for _, amount in expected])


def test_a_matched_call_quotes_its_cdr_and_the_plans_seconds() -> None:
    out = reconcile(pd.DataFrame([billed_call("1", billed_s=120, amount=0.12)]), calls_frame(CDRS), window_s=120)
    r = out.iloc[0]
    assert (r["cdr_key"], r["cdr_source"], r["billsec_s"], r["billed_s"], r["dest_class"]) == (
        "a", "Master.csv:a", 62.0, 66.0, "national")


def test_no_cdr_at_all_leaves_every_billed_call_not_in_cdrs() -> None:
    out = reconcile(pd.DataFrame([billed_call("1"), billed_call("2", start_s=T0 + 900)]), calls_frame([]),
                    window_s=120)
    assert list(out["rule"]) == ["call_not_in_cdrs"] * 2


@pytest.mark.parametrize(
    ("text", "classes", "expected"),
    [
        pytest.param("Mobile", {}, "mobile", id="a-class-name-in-any-case"),
        pytest.param("Numéro spécial", {"Numéro spécial": DestinationClass.PREMIUM}, "premium", id="mapped"),
        pytest.param("FIXE NATIONAL", {"Fixe national": DestinationClass.NATIONAL}, "national",
                     id="mapped-case-insensitively"),
        pytest.param("Satellite", {}, "", id="unknown-text"),
    ],
)
def test_the_carriers_destination_texts_become_classes(text: str, classes: dict, expected: str) -> None:
    assert carrier_classes(pd.Series([text], dtype="string"), classes).tolist() == [expected]


# -- the line's call charges against the rated calls -------------------------------------------------------------


def _rows(usage: str | None) -> list:
    rows = [row("OCT-1", MRC, "250.00", circuit=VOICE_CIRCUIT, start=OCT_1, end=OCT_31, n=1)]
    if usage is not None:
        rows.append(row("OCT-1", USE, usage, circuit=VOICE_CIRCUIT, start=OCT_1, end=OCT_31, n=2,
                        description="Communications"))
    return rows


def _audit(usage: str | None, calls: list[dict], reconciliation: pd.DataFrame | None = None):
    config = voice_config()
    auditor = Auditor(
        config=config,
        invoices=[invoice("OCT-1", _rows(usage))],
        period=OCT,
        usage={},
        voice=month_of(calls, reconciliation=reconciliation, config=config),
    )
    return auditor, [f for f in auditor.run() if f.line == VOICE_LINE]


MONTH = [call(str(i), start_s=T0 + 400 * i, talk_s=90, cost=1.00) for i in range(10)]  # rated 10.00 EUR


@pytest.mark.parametrize(
    ("billed", "calls", "expected"),
    [
        pytest.param("10.00", MONTH, [], id="billed-as-rated"),
        pytest.param("10.09", MONTH, [], id="within-the-1-percent-tolerance"),
        pytest.param("11.20", MONTH, [("voice_usage_mismatch", D("1.20"))], id="12-percent-above"),
        pytest.param("8.00", MONTH, [("voice_usage_mismatch", D("-2.00"))], id="under-billed"),
        pytest.param("7.50", [], [("voice_usage_mismatch", D("7.50"))], id="no-cdrs-cannot-be-verified"),
        pytest.param(None, MONTH, [], id="no-call-charges-billed"),
    ],
)
def test_call_charges_against_the_rated_total(billed: str | None, calls: list, expected: list) -> None:
    _auditor, findings = _audit(billed, calls)
    assert [(f.rule.value, f.amount_at_stake) for f in findings] == expected


def test_the_mismatch_names_the_figures_and_rests_on_the_usage_row() -> None:
    _auditor, [finding] = _audit("11.20", MONTH)
    assert finding.reason == (
        "call charges billed 11.20 EUR, rated 10.00 EUR by rate plan acme-voice: 10 calls (10 answered, 15.0 talk "
        "minutes, 15.0 billed)"
    )
    # row 3 of the invoice file (its header is row 1): the usage row
    assert (finding.invoice_number, finding.source, finding.currency) == ("OCT-1", "OCT-1.csv:3", "EUR")


def test_no_cdrs_says_so() -> None:
    _auditor, [finding] = _audit("7.50", [])
    assert "linewatch has no call of L-VOICE in 2026-10: cannot be verified" in finding.reason


def test_a_voice_lines_call_charges_are_not_judged_by_the_data_usage_rule() -> None:
    """Its flat contract bills no data usage: without the voice audit the usage rule claimed the whole amount."""
    _auditor, findings = _audit("10.00", MONTH)
    assert not any(f.rule is AuditRule.USAGE_MISMATCH for f in findings)


def test_the_rated_calls_are_the_lines_expected_usage_in_the_costs() -> None:
    auditor, findings = _audit("11.20", MONTH)
    lines, _ = line_costs(auditor, findings)
    [voice] = [lc for lc in lines if lc.line == VOICE_LINE]
    assert (voice.billed_amount, voice.expected_amount, voice.at_stake_amount) == (
        D("261.20"), D("260.00"), D("1.20"))


def _reconciliation(billed: list[dict], calls: list[dict]) -> pd.DataFrame:
    return reconcile(pd.DataFrame(billed), calls_frame(calls), window_s=120)


def test_itemized_call_findings_go_on_the_invoice_that_bills_the_calls_and_are_not_claimed_twice() -> None:
    """10 calls rated 10.00; the carrier bills them right plus a call the PBX never made (0.80) and one rounded
    (1.50 for 150 s of a 90 s call): 11.30 billed. The two call findings claim 0.80 + 0.60; nothing remains for
    voice_usage_mismatch."""
    billed = [billed_call(str(i), start_s=T0 + 400 * i + 5, billed_s=90, amount=1.00) for i in range(1, 10)]
    billed += [billed_call("0", start_s=T0 + 5, billed_s=150, amount=1.50),
               billed_call("x", start_s=T0 + 7200, callee="0899123456", e164="33899123456", amount=0.80)]
    _auditor, findings = _audit("11.30", MONTH, _reconciliation(billed, MONTH))
    assert sorted((f.rule.value, f.amount_at_stake, f.invoice_number) for f in findings) == [
        ("call_not_in_cdrs", D("0.80"), "OCT-1"),
        ("call_rounding", D("0.60"), "OCT-1"),
    ]
    rounding = next(f for f in findings if f.rule is AuditRule.CALL_ROUNDING)
    assert rounding.source == "acme-calls-2026-10.csv:0"
    assert rounding.reason == (
        "call to 0142685300 on 2026-10-04 11:00:05 Europe/Paris billed 150 s, 1.50 EUR; the CDR's 90 s of talk time "
        "round to 90 s under rate plan acme-voice: 60 s billed too many (CDR Master.csv:0)"
    )
    missing = next(f for f in findings if f.rule is AuditRule.CALL_NOT_IN_CDRS)
    assert missing.reason.endswith("no answered call of L-VOICE to this number within ±120 s in the PBX's call "
                                   "records")


def test_what_the_call_findings_do_not_explain_remains_a_usage_mismatch() -> None:
    billed = [billed_call(str(i), start_s=T0 + 400 * i + 5, billed_s=90, amount=1.00) for i in range(10)]
    billed.append(billed_call("x", start_s=T0 + 7200, callee="0899123456", e164="33899123456", amount=0.80))
    _auditor, findings = _audit("13.80", MONTH, _reconciliation(billed, MONTH))  # 3.00 more than the records
    mismatch = next(f for f in findings if f.rule is AuditRule.VOICE_USAGE_MISMATCH)
    assert mismatch.amount_at_stake == D("3.00")
    assert mismatch.reason.endswith("1 itemized call finding(s) claim 0.80 EUR, 3.00 EUR remain")


def test_each_disputed_call_is_its_own_finding_with_a_stable_id() -> None:
    billed = [billed_call(k, start_s=T0 + 9000 + 600 * i, callee="0899123456", e164="33899123456", amount=0.80)
              for i, k in enumerate("xyz")]
    _auditor, first = _audit("12.40", MONTH, _reconciliation(billed, MONTH))
    _auditor, again = _audit("12.40", MONTH, _reconciliation(list(reversed(billed)), MONTH))
    ids = {finding_key(f, OCT) for f in first if f.rule is AuditRule.CALL_NOT_IN_CDRS}
    assert len(ids) == 3
    assert ids == {finding_key(f, OCT) for f in again if f.rule is AuditRule.CALL_NOT_IN_CDRS}


def test_a_call_finding_without_an_invoice_row_takes_the_contracts_currency() -> None:
    billed = [billed_call("x", start_s=T0 + 7200, callee="0899123456", e164="33899123456", amount=0.80)]
    _auditor, [finding] = _audit(None, MONTH, _reconciliation(billed, MONTH))
    assert (finding.rule, finding.invoice_number, finding.currency, finding.amount_at_stake) == (
        AuditRule.CALL_NOT_IN_CDRS, "", "EUR", Decimal("0.80"))


VOICE_RULES_PLANTED = {
    "voice_usage_mismatch": "test_call_charges_against_the_rated_total",
    "call_not_in_cdrs": "test_itemized_call_findings_go_on_the_invoice_that_bills_the_calls_and_are_not_claimed_twice",
    "call_rounding": "test_itemized_call_findings_go_on_the_invoice_that_bills_the_calls_and_are_not_claimed_twice",
    "call_wrong_class": "test_each_billed_call_gets_one_verdict",
}
"""The voice rules and the test here that plants each (test_audit_rules.test_every_rule_has_a_case reads it)."""
