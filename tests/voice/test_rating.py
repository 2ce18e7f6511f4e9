"""Rating calls: increments, minimum charges, connection fees, prefixes and classes, time bands, bundles across
calls and batches, currencies, and what is never charged.

Pure logic (no server): every case is a small call frame rated by a plan written for it; the expected cost is
worked out by hand in the case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from linewatch.voice.config import VoiceConfig
from linewatch.voice.frame import ALL_COLUMNS, CALL_COLUMNS, conform
from linewatch.voice.numbering import NumberingConfig
from linewatch.voice.rateplan import RatePlan
from linewatch.voice.rating import Rater, billed_seconds, month_bounds
from linewatch.yamlconf import load_model

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
NUMBERING = NumberingConfig(classes=[{"prefix": "4969", "class": "local"}, {"prefix": "4915", "class": "mobile"},
                                     {"prefix": "49900", "class": "premium"}])
MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=BERLIN).timestamp()  # peak
MONDAY_20 = dt.datetime(2026, 11, 16, 20, 0, tzinfo=BERLIN).timestamp()  # off-peak
SATURDAY_10 = dt.datetime(2026, 11, 21, 10, 0, tzinfo=BERLIN).timestamp()


def plan(**fields: object) -> RatePlan:
    base: dict[str, object] = {"name": "p", "currency": "EUR", "timezone": "Europe/Berlin",
                               "rates": [{"rate": "0.06"}]}
    return RatePlan.model_validate(base | fields)


def call(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"line": "L1", "start_s": MONDAY_10, "billsec_s": 60.0, "callee": "0301234567",
                               "direction": "outbound", "outcome": "answered"}
    return base | fields


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows))
    for name, dtype in CALL_COLUMNS.items():
        if name not in df:
            df[name] = pd.Series([None] * len(df), dtype=dtype)
    df["call_key"] = [f"k{i}" for i in range(len(df))]
    df["answer_s"] = df["start_s"]
    df["end_s"] = df["start_s"] + df["billsec_s"]
    df["duration_s"] = df["billsec_s"]
    return conform(df)


def rate(p: RatePlan, *rows: dict[str, object], used: dict | None = None, numbering: NumberingConfig = NUMBERING):
    return Rater([p], numbering).rate(frame(*rows), plan_of_line={"L1": p.name}, country_of_line={"L1": "49"},
                                      bundle_used_s=used)


@pytest.mark.parametrize(("increment", "billsec_s", "billed_s"), [
    ("60/60", 0, 0), ("60/60", 0.2, 60), ("60/60", 1, 60), ("60/60", 60, 60), ("60/60", 60.0000001, 60),
    ("60/60", 61, 120), ("60/60", 179, 180),
    ("30/6", 1, 30), ("30/6", 30, 30), ("30/6", 31, 36), ("30/6", 36, 36), ("30/6", 37, 42), ("30/6", 95, 96),
    ("1/1", 1, 1), ("1/1", 59.5, 60), ("1/1", 61, 61),
    ("60/1", 61, 61), ("60/1", 5, 60),
], ids=lambda v: str(v))
def test_talk_time_is_rounded_to_the_plans_increment(increment: str, billsec_s: float, billed_s: float) -> None:
    rated = rate(plan(increment=increment), call(billsec_s=billsec_s)).frame
    assert rated["billed_s"].iloc[0] == billed_s
    assert billed_seconds(np.array([billsec_s]), *map(int, increment.split("/")))[0] == billed_s


@pytest.mark.parametrize(("fields", "billsec_s", "cost"), [
    ({"increment": "60/60", "rates": [{"rate": "0.06"}]}, 61, 0.12),  # 2 minutes x 0.06
    ({"increment": "30/6", "rates": [{"rate": "0.06"}]}, 31, 0.04),  # 36 s x 0.001/s = 0.036 -> 0.04 (half up)
    ({"increment": "1/1", "rates": [{"rate": "0.06"}]}, 25, 0.03),  # 0.025 -> 0.03: half up, not to even
    ({"increment": "1/1", "rates": [{"rate": "0.06"}]}, 24, 0.02),  # 0.024
    ({"increment": "30/6", "minimum_charge": "0.05", "rates": [{"rate": "0.06"}]}, 10, 0.05),  # 0.03 < minimum
    ({"increment": "30/6", "minimum_charge": "0.05", "rates": [{"rate": "0.06"}]}, 120, 0.12),  # above minimum
    ({"increment": "30/6", "connection_fee": "0.015", "rates": [{"rate": "0.06"}]}, 30, 0.05),  # 0.03 + 0.015
    ({"increment": "30/6", "connection_fee": "0.015", "minimum_charge": "0.02", "rates": [{"rate": "0.01"}]},
     30, 0.04),  # max(0.005, 0.02) + 0.015 = 0.035 -> 0.04
    ({"increment": "30/6", "connection_fee": "0.015", "rates": [{"rate": "0.06"}]}, 0, 0.02),  # answered, 0 s
    ({"increment": "60/60", "rates": [{"rate": "0.0290"}]}, 3600, 1.74),  # 60 x 0.029
], ids=["60/60", "30/6-half-up", "1/1-half-up", "1/1-down", "minimum-charge", "above-minimum", "connection-fee",
        "fee-plus-minimum", "fee-without-talk", "an-hour"])
def test_cost_of_an_answered_call(fields: dict, billsec_s: float, cost: float) -> None:
    rated = rate(plan(**fields), call(billsec_s=billsec_s)).frame
    assert rated["cost"].iloc[0] == pytest.approx(cost, abs=1e-9)
    assert rated["currency"].iloc[0] == "EUR"


@pytest.mark.parametrize(("callee", "rate_prefix", "cost"), [
    ("0691234567", "", 0.01),  # class local (its only rate: class only)
    ("0301234567", "", 0.02),  # class national
    ("015112345678", "4915", 0.09),  # a prefix entry without class: 4 digits beat the class entry
    ("0521234567", "", 0.10),  # class mobile (4952), prefix 4915 does not match
    ("0033142345678", "33", 0.03),  # prefix + class international
    ("00331", "33", 0.03),
    ("0044201234567", "", 0.50),  # class international, no prefix entry
    ("0090012345", "", 0.50),  # +900...: international (Turkey's country code is 90)
    ("0900123456", "49900", 1.99),  # premium prefix
], ids=lambda v: str(v))
def test_longest_prefix_and_class_pick_the_rate(callee: str, rate_prefix: str, cost: float) -> None:
    p = plan(rates=[{"class": "local", "rate": "0.01"}, {"class": "national", "rate": "0.02"},
                    {"class": "mobile", "rate": "0.10"}, {"prefix": "4915", "rate": "0.09"},
                    {"class": "international", "rate": "0.50"}, {"prefix": "33", "class": "international",
                                                                 "rate": "0.03"},
                    {"prefix": "49900", "rate": "1.99"}])
    numbering = NumberingConfig(classes=[{"prefix": "4969", "class": "local"}, {"prefix": "4915", "class": "mobile"},
                                         {"prefix": "4952", "class": "mobile"}, {"prefix": "49900", "class": "premium"}])
    rated = rate(p, call(callee=callee), numbering=numbering).frame
    assert rated["rate_prefix"].iloc[0] == rate_prefix
    assert rated["cost"].iloc[0] == pytest.approx(cost)


def test_at_equal_length_the_entry_naming_the_class_wins() -> None:
    p = plan(rates=[{"prefix": "4930", "rate": "0.50"}, {"prefix": "4930", "class": "national", "rate": "0.02"}])
    assert rate(p, call(callee="0301234")).frame["cost"].iloc[0] == pytest.approx(0.02)


@pytest.mark.parametrize(("start", "band", "cost"), [
    (MONDAY_10, "peak", 0.03),
    (MONDAY_20, "offpeak", 0.01),
    (SATURDAY_10, "offpeak", 0.01),
    (dt.datetime(2026, 11, 16, 8, 0, tzinfo=BERLIN).timestamp(), "peak", 0.03),  # the window's start is in it
    (dt.datetime(2026, 11, 16, 7, 59, 59, tzinfo=BERLIN).timestamp(), "offpeak", 0.01),
    (dt.datetime(2026, 11, 16, 18, 0, tzinfo=BERLIN).timestamp(), "offpeak", 0.01),  # the end is not
    (dt.datetime(2026, 12, 25, 10, 0, tzinfo=BERLIN).timestamp(), "offpeak", 0.01),  # a holiday (a Friday)
    (dt.datetime(2026, 3, 30, 8, 30, tzinfo=BERLIN).timestamp(), "peak", 0.03),  # the Monday after DST starts
    (dt.datetime(2026, 3, 27, 7, 30, tzinfo=BERLIN).timestamp(), "offpeak", 0.01),  # 06:30 UTC before it
], ids=["peak", "evening", "weekend", "window-start", "before-start", "window-end", "holiday", "summer-time",
        "winter-time"])
def test_the_time_band_of_the_start_in_the_plans_zone(start: float, band: str, cost: float) -> None:
    p = plan(bands=[{"name": "peak", "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00",
                                                  "end": "18:00"}]}, {"name": "offpeak"}],
             holidays={"band": "offpeak", "dates": ["2026-12-25"]},
             rates=[{"rate": {"peak": "0.03", "offpeak": "0.01"}}])
    rated = rate(p, call(start_s=start)).frame
    assert (rated["band"].iloc[0], rated["cost"].iloc[0]) == (band, pytest.approx(cost))


def test_a_plan_without_bands_writes_an_empty_band() -> None:
    assert rate(plan(), call()).frame["band"].iloc[0] == ""


def test_bundle_is_consumed_in_start_order_across_calls_and_batches() -> None:
    p = plan(increment="60/60", bundles=[{"name": "b", "minutes": 5, "classes": ["national"]}],
             rates=[{"class": "national", "rate": "0.10"}, {"class": "mobile", "rate": "0.20"}])
    calls = [call(start_s=MONDAY_10 + 300, billsec_s=120),  # second in start order: 2 of the 3 minutes left
             call(start_s=MONDAY_10, billsec_s=150),  # first: 3 minutes from the bundle
             call(start_s=MONDAY_10 + 100, billsec_s=60, callee="015112345678"),  # mobile: not in the bundle
             call(start_s=MONDAY_10 + 600, billsec_s=60)]  # bundle used up
    batch = rate(p, *calls)
    rated = batch.frame
    assert rated["bundle_s"].tolist() == [120.0, 180.0, 0.0, 0.0]
    assert rated["cost"].tolist() == pytest.approx([0.0, 0.0, 0.20, 0.10])
    assert batch.bundle_used_s == {("L1", "2026-11"): 300.0}
    nxt = rate(p, call(start_s=MONDAY_10 + 900, billsec_s=60), used={("L1", "2026-11"): 240.0})
    assert nxt.frame["bundle_s"].tolist() == [60.0] and nxt.frame["cost"].tolist() == [0.0]
    assert nxt.bundle_used_s == {("L1", "2026-11"): 300.0}


def test_a_call_partly_in_the_bundle_pays_the_rest_and_the_fee() -> None:
    p = plan(increment="60/60", connection_fee="0.01", minimum_charge="0.05",
             bundles=[{"name": "b", "minutes": 1, "classes": ["national"]}], rates=[{"rate": "0.10"}])
    rated = rate(p, call(billsec_s=150)).frame  # 180 s billed, 60 s from the bundle, 2 minutes charged
    assert (rated["billed_s"].iloc[0], rated["bundle_s"].iloc[0]) == (180.0, 60.0)
    assert rated["cost"].iloc[0] == pytest.approx(0.21)
    whole = rate(p, call(billsec_s=30)).frame  # wholly in the bundle: no minimum charge, the fee only
    assert whole["cost"].iloc[0] == pytest.approx(0.01)


def test_bundles_restart_each_month_of_the_plans_zone() -> None:
    p = plan(bundles=[{"name": "b", "minutes": 1, "prefixes": ["4930"]}], rates=[{"rate": "0.10"}])
    before = dt.datetime(2026, 11, 30, 23, 30, tzinfo=BERLIN).timestamp()  # 22:30 UTC: still November in Berlin
    after = dt.datetime(2026, 12, 1, 0, 30, tzinfo=BERLIN).timestamp()  # 23:30 UTC on 30 November
    batch = rate(p, call(start_s=before), call(start_s=after))
    assert batch.frame["bundle_s"].tolist() == [60.0, 60.0]
    assert batch.bundle_used_s == {("L1", "2026-11"): 60.0, ("L1", "2026-12"): 60.0}


@pytest.mark.parametrize(("currency", "rate_amount", "billsec_s", "cost"), [
    ("EUR", "0.0290", 60, 0.03),
    ("KRW", "35", 90, 70.0),  # no minor unit: whole won (2 minutes x 35)
    ("KRW", "2.5", 60, 3.0),  # 2.5 won -> 3 (half up)
    ("BHD", "0.0125", 60, 0.013),  # three decimals (fils)
    ("JPY", "10.4", 60, 10.0),
], ids=["EUR", "KRW", "KRW-half-up", "BHD", "JPY"])
def test_cost_is_rounded_to_the_currencys_minor_unit(currency: str, rate_amount: str, billsec_s: float,
                                                     cost: float) -> None:
    rated = rate(plan(currency=currency, rates=[{"rate": rate_amount}]), call(billsec_s=billsec_s)).frame
    assert rated["cost"].iloc[0] == pytest.approx(cost, abs=1e-9)
    assert rated["currency"].iloc[0] == currency


@pytest.mark.parametrize(("fields", "why"), [
    ({"outcome": "blocked"}, "blocked"),
    ({"outcome": "no_answer", "billsec_s": 0}, "not answered"),
    ({"outcome": "busy"}, "busy"),
    ({"direction": "inbound", "callee": "069123456"}, "the carrier charges the caller"),
    ({"direction": "internal", "callee": "3150"}, "internal"),
    ({"callee": "112"}, "emergency"),
], ids=lambda v: str(v))
def test_calls_that_cost_nothing(fields: dict, why: str) -> None:
    rated = rate(plan(connection_fee="0.01"), call(**fields)).frame
    assert (rated["cost"].iloc[0], rated["billed_s"].iloc[0]) == (0.0, 0.0), why
    assert rated["rate_plan"].iloc[0] == "p"


@pytest.mark.parametrize(("direction", "caller", "callee", "dest_class"), [
    ("inbound", "+33612345678", "3101", "international"),  # the far end of an inbound call is its caller
    ("inbound", "0691234567", "+496912340", "local"),
    ("inbound", "+882123456789", "3101", "international"),  # from a high-risk range: no toll-fraud risk
    ("internal", "3101", "00882123456", "unknown"),  # never leaves the PBX
])
def test_the_far_end_of_inbound_and_internal_calls(direction: str, caller: str, callee: str,
                                                   dest_class: str) -> None:
    rated = rate(plan(), call(direction=direction, caller=caller, callee=callee), call()).frame
    assert rated["dest_class"].iloc[0] == dest_class
    assert pd.isna(rated["callee_e164"].iloc[0]) and not rated["high_risk"].iloc[0]  # outbound only
    assert (rated["callee_e164"].iloc[1], rated["dest_class"].iloc[1]) == ("49301234567", "national")


def test_a_line_without_a_plan_is_rated_zero_with_an_empty_plan() -> None:
    p = plan()
    rated = Rater([p], NUMBERING).rate(frame(call(line="L2"), call(line=None)), plan_of_line={"L1": "p"},
                                       country_of_line={}).frame
    assert rated["cost"].tolist() == [0.0, 0.0] and rated["rate_plan"].tolist() == ["", ""]
    assert rated["dest_class"].tolist() == ["national", "national"]  # classified in numbering's country
    assert rated["currency"].tolist() == ["", ""]


def test_a_line_naming_an_undefined_plan_is_an_error_naming_both() -> None:
    with pytest.raises(ValueError, match="line L1: rate plan 'nope' is not defined"):
        Rater([plan()], NUMBERING).rate(frame(call()), plan_of_line={"L1": "nope"}, country_of_line={})


def test_a_number_no_rate_matches_costs_zero_and_is_counted() -> None:
    p = plan(rates=[{"class": "national", "rate": "0.02"}])
    batch = rate(p, call(), call(callee="0033123456"))
    assert batch.frame["cost"].tolist() == [0.02, 0.0]
    assert batch.frame["rate_prefix"].isna().tolist() == [False, True]
    assert (batch.unrated, batch.unrated_lines) == (1, ("L1",))


def test_the_trunks_country_decides_national_numbers() -> None:
    p = plan(rates=[{"class": "national", "rate": "0.02"}, {"class": "international", "rate": "0.40"}])
    rated = Rater([p], NUMBERING).rate(frame(call(line="L1"), call(line="L2")),
                                       plan_of_line={"L1": "p", "L2": "p"},
                                       country_of_line={"L1": "49", "L2": "33"}).frame
    assert rated["callee_e164"].tolist() == ["49301234567", "33301234567"]
    assert rated["cost"].tolist() == [0.02, 0.02]


def test_the_frame_keeps_extra_columns_index_and_order() -> None:
    calls = frame(call(start_s=MONDAY_10 + 60), call(start_s=MONDAY_10))
    calls.index = [10, 4]
    calls["carrier_billed_s"] = [66.0, 60.0]
    rated = Rater([plan()], NUMBERING).rate(calls, plan_of_line={"L1": "p"}, country_of_line={}).frame
    assert list(rated.columns) == [*ALL_COLUMNS, "carrier_billed_s"]
    assert list(rated.index) == [10, 4] and rated["carrier_billed_s"].tolist() == [66.0, 60.0]
    assert conform(rated, ALL_COLUMNS).dtypes.equals(rated[list(ALL_COLUMNS)].dtypes)


def test_an_empty_frame_rates_to_an_empty_frame() -> None:
    rated = Rater([plan()], NUMBERING).rate(frame(call()).iloc[:0], plan_of_line={"L1": "p"}, country_of_line={})
    assert len(rated.frame) == 0 and list(rated.frame.columns) == list(ALL_COLUMNS)


def test_rating_is_column_wise_and_exact_for_many_calls() -> None:
    n = 100_000
    rng = np.random.default_rng(3)
    billsec = rng.integers(1, 600, n).astype(float)
    calls = frame(call()).iloc[np.zeros(n, dtype=int)].reset_index(drop=True)
    calls["billsec_s"] = billsec
    calls["start_s"] = MONDAY_10 + np.arange(n, dtype=float)
    p = plan(increment="30/6", rates=[{"rate": "0.0123"}], connection_fee="0.0015")
    rated = Rater([p], NUMBERING).rate(calls, plan_of_line={"L1": "p"}, country_of_line={}).frame
    billed = np.where(billsec <= 30, 30, 30 + np.ceil((billsec - 30) / 6) * 6)
    expected = [float((Decimal(int(b)) * Decimal("0.0123") / 60 + Decimal("0.0015")).quantize(
        Decimal("0.01"), rounding="ROUND_HALF_UP")) for b in billed[:2000]]
    assert rated["billed_s"].to_numpy().tolist() == billed.tolist()
    assert rated["cost"].iloc[:2000].tolist() == expected


@pytest.mark.parametrize(("zone", "month", "start", "end"), [
    ("Europe/Berlin", "2026-11", "2026-10-31T23:00:00+00:00", "2026-11-30T23:00:00+00:00"),
    ("Europe/Paris", "2026-12", "2026-11-30T23:00:00+00:00", "2026-12-31T23:00:00+00:00"),
    ("UTC", "2026-02", "2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"),
    ("Asia/Seoul", "2026-03", "2026-02-28T15:00:00+00:00", "2026-03-31T15:00:00+00:00"),
])
def test_month_bounds_in_the_plans_zone(zone: str, month: str, start: str, end: str) -> None:
    bounds = month_bounds(plan(timezone=zone), month)
    assert bounds == (dt.datetime.fromisoformat(start).timestamp(), dt.datetime.fromisoformat(end).timestamp())


def test_month_bounds_refuses_a_bad_month() -> None:
    with pytest.raises(ValueError, match="expected a month YYYY-MM"):
        month_bounds(plan(), "2026-13")


def test_the_demo_plans_rate_the_demo_trunks() -> None:
    config, _located = load_model(ROOT / "config" / "voice.yaml", VoiceConfig)
    rater = Rater(config.rate_plans, config.numbering)
    calls = frame(call(line="FRA-VOICE-1", callee="0301234567", billsec_s=61),  # national, in the bundle
                  call(line="FRA-VOICE-1", callee="00882123456789", billsec_s=120),  # fraud: 2 x 4.90
                  call(line="PAR-VOICE-1", callee="0612345678", billsec_s=31))  # 36 s x 0.065/60 + 0.015
    rated = rater.rate(calls, plan_of_line={"FRA-VOICE-1": "dtag-sip-business", "PAR-VOICE-1": "obs-sip-fr"},
                       country_of_line={"FRA-VOICE-1": "49", "PAR-VOICE-1": "33"}).frame
    assert rated["rate_plan"].tolist() == ["dtag-sip-business", "dtag-sip-business", "obs-sip-fr"]
    assert rated["dest_class"].tolist() == ["national", "international", "mobile"]
    assert rated["high_risk"].tolist() == [False, True, False]
    assert rated["bundle_s"].tolist() == [120.0, 0.0, 0.0]
    assert rated["cost"].tolist() == pytest.approx([0.0, 9.80, 0.05])
