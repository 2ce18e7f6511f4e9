"""The shared pieces of the CDR formats: the outcome table, trunk globs and mapping, local times, durations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cdr_support import cdr_env

from linewatch.voice.config import TrunkMap
from linewatch.voice.formats.common import outcomes, parse_seconds, parse_times
from linewatch.voice.mapping import TrunkMapper, glob_regex

# (answered, sip_code, q850_cause, carrier side, expected outcome)
OUTCOMES = [
    pytest.param(True, 200, 16, True, "answered", id="answered"),
    pytest.param(False, 503, None, True, "blocked", id="sip-503-carrier"),
    pytest.param(False, 486, None, True, "blocked", id="sip-486-carrier"),
    pytest.param(False, 486, None, False, "busy", id="sip-486-extension"),
    pytest.param(False, 503, None, False, "failed", id="sip-503-extension"),
    pytest.param(False, 600, None, False, "busy", id="sip-600"),
    pytest.param(False, 487, None, True, "no_answer", id="sip-487-cancel"),
    pytest.param(False, 480, None, True, "no_answer", id="sip-480"),
    pytest.param(False, 408, None, False, "no_answer", id="sip-408"),
    pytest.param(False, 404, None, True, "failed", id="sip-404"),
    pytest.param(False, None, 34, False, "blocked", id="q850-34-no-circuit"),
    pytest.param(False, None, 38, False, "blocked", id="q850-38-network-out-of-order"),
    pytest.param(False, None, 41, False, "blocked", id="q850-41-temporary-failure"),
    pytest.param(False, None, 42, False, "blocked", id="q850-42-switching-congestion"),
    pytest.param(False, None, 44, False, "blocked", id="q850-44-channel-unavailable"),
    pytest.param(False, None, 47, False, "blocked", id="q850-47-resource-unavailable"),
    pytest.param(False, None, 17, True, "blocked", id="q850-17-carrier"),
    pytest.param(False, None, 17, False, "busy", id="q850-17-extension"),
    pytest.param(False, None, 16, False, "no_answer", id="q850-16-before-answer"),
    pytest.param(False, None, 18, False, "no_answer", id="q850-18"),
    pytest.param(False, None, 19, False, "no_answer", id="q850-19"),
    pytest.param(False, None, 1, False, "failed", id="q850-1-unallocated"),
    pytest.param(False, None, None, False, "failed", id="nothing-known"),
]


@pytest.mark.parametrize(("answered", "sip", "q850", "carrier", "expected"), OUTCOMES)
def test_outcome_table(answered: bool, sip: int | None, q850: int | None, carrier: bool, expected: str) -> None:
    got = outcomes(answered=np.array([answered]), sip_code=pd.Series([sip], dtype="Int64"),
                   q850_cause=pd.Series([q850], dtype="Int64"), carrier_side=np.array([carrier]))
    assert got.tolist() == [expected]


def test_outcome_falls_back_to_the_formats_verdict() -> None:
    got = outcomes(answered=np.array([False, False]), fallback=pd.Series(["no_answer", None], dtype="string"))
    assert got.tolist() == ["no_answer", "failed"]


@pytest.mark.parametrize(("glob", "value", "hit"), [
    ("PJSIP/dtag-*", "PJSIP/dtag-0000001a", True),
    ("PJSIP/dtag-*", "PJSIP/dtag2-0000001a", False),
    ("PJSIP/dtag-*", "SIP/PJSIP/dtag-1", False),
    ("gw-??", "gw-01", True),
    ("gw-??", "gw-001", False),
    ("gw-[0-9]*", "gw-7x", True),
    ("gw-[!0-9]*", "gw-7x", False),
    ("a.b", "aXb", False),
    ("dtag", "dtag", True),
])
def test_trunk_globs_match_the_whole_value(glob: str, value: str, hit: bool) -> None:
    import re

    assert bool(re.match(glob_regex(glob), value)) is hit
    mapper = TrunkMapper([TrunkMap(match=glob, line="FRA-VOICE-1")], cdr_env_inventory(), source="s")
    assert mapper.is_trunk(pd.Series([value], dtype="string")).tolist() == [hit]


def cdr_env_inventory():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        return cdr_env(Path(folder)).inventory


def test_first_matching_entry_wins_and_source_filters() -> None:
    trunks = [TrunkMap(match="gw-par*", line="PAR-VOICE-1", source="other"),
              TrunkMap(match="gw-*", line="FRA-VOICE-1"),
              TrunkMap(match="gw-par*", line="PAR-VOICE-1")]
    mapper = TrunkMapper(trunks, cdr_env_inventory(), source="pbx")
    values = pd.Series(["gw-par-1", "gw-fra-1", "", None, "x"], dtype="string")
    assert mapper.line_of(values).tolist() == ["FRA-VOICE-1", "FRA-VOICE-1", pd.NA, pd.NA, pd.NA]
    other = TrunkMapper(trunks, cdr_env_inventory(), source="other")
    assert other.line_of(values).tolist()[:2] == ["PAR-VOICE-1", "FRA-VOICE-1"]


def test_country_code_of_a_line_comes_from_its_trunk_entry() -> None:
    mapper = TrunkMapper([TrunkMap(match="obs*", line="PAR-VOICE-1", country_code="33")], cdr_env_inventory(),
                         source="s")
    assert (mapper.country_code_of("PAR-VOICE-1"), mapper.country_code_of("FRA-VOICE-1")) == ("33", None)


@pytest.mark.parametrize(("text", "zone", "epoch"), [
    ("2026-11-02 09:00:00", "Europe/Berlin", 1_793_606_400),  # CET, UTC+1
    ("2026-07-01 09:00:00", "Europe/Berlin", 1_782_889_200),  # CEST, UTC+2
    ("2026-10-25 02:30:00", "Europe/Berlin", 1_792_888_200),  # the repeated hour: read as summer time
    ("2026-03-29 02:30:00", "Europe/Berlin", 1_774_747_800),  # the skipped hour: read with the offset before
    ("2026-11-02 09:00:00", "UTC", 1_793_610_000),
])
def test_local_times_take_the_zones_offset(text: str, zone: str, epoch: int) -> None:
    got, bad = parse_times(pd.Series([text], dtype="string"), timezone=zone)
    assert (got.tolist(), bad.tolist()) == ([float(epoch)], [False])


@pytest.mark.parametrize("text", ["2026-11-31 09:00:00", "2026-02-29 09:00:00", "2026-11-02 24:00:00",
                                  "2026-11-02 09:00:61", "02.11.2026 09:00", "yesterday"])
def test_impossible_times_are_bad_when_strict(text: str) -> None:
    got, bad = parse_times(pd.Series([text], dtype="string"), strict=True)
    assert bad.tolist() == [True] and np.isnan(got).all()


def test_empty_time_is_missing_not_bad() -> None:
    got, bad = parse_times(pd.Series([""], dtype="string"))
    assert np.isnan(got).all() and bad.tolist() == [False]


@pytest.mark.parametrize(("text", "decimal", "seconds"), [
    ("62", ".", 62.0), ("62.5", ".", 62.5), ("62,5", ",", 62.5), ("1:02", ".", 62.0), ("1:00:02", ".", 3602.0),
    ("", ".", None), ("abc", ".", "bad"),
])
def test_durations(text: str, decimal: str, seconds: object) -> None:
    got, bad = parse_seconds(pd.Series([text], dtype="string"), decimal=decimal)
    if seconds == "bad":
        assert bad.tolist() == [True]
    elif seconds is None:
        assert np.isnan(got).all() and bad.tolist() == [False]
    else:
        assert got.tolist() == [seconds] and bad.tolist() == [False]
