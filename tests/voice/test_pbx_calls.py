"""The real PBX rig: SIPp callers place calls of known hold times through Kamailio to the SIPp carrier; Kamailio's
CDRs and live counts agree with what SIPp itself saw (answered, busy, congested, over the channel limit)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from collector.voice.pbx import Pbx
from linewatch.servers.kamailio import CDR_FIELDS
from linewatch.servers.sipp import SippCall
from linewatch.voice.config import TrunkMap
from linewatch.voice.formats import parse
from linewatch.voice.formats.config import CdrSource
from linewatch.voice.mapping import TrunkMapper
from tests.voice.conftest import cdr_lines_of
from tests.voice.voice_pipeline_support import inventory


def _rows(lines: list[str]) -> list[dict[str, str]]:
    return [dict(zip(CDR_FIELDS, line.split("|"), strict=True)) for line in lines]


def test_answered_calls_have_cdrs_with_the_held_durations(kamailio_pbx: Pbx) -> None:
    holds = {"+4969123001": 1.0, "+4969123002": 2.0, "+4969123003": 1.5}
    run = kamailio_pbx.place([SippCall("3101", number, hold) for number, hold in holds.items()], rate_per_s=20)
    counts = run.counts()
    rows = _rows(cdr_lines_of(kamailio_pbx, run, expected=3))
    assert counts.received["200"] == 3 + 3  # the INVITEs' and the BYEs' 200 OK
    assert len(rows) == 3
    for row in rows:
        assert (row["trunk"], row["direction"], row["caller"], row["sip_code"]) == ("dtag-fra", "outbound", "3101", "200")
        talk_s = float(row["invite_ts"]) + float(row["duration"]) - float(row["answer_ts"])
        assert talk_s == pytest.approx(holds[row["callee"]], abs=0.05)


@pytest.mark.parametrize(
    ("callee", "code", "q850"),
    [("+4969123486", "486", "0"), ("+4969123503", "503", "34"), ("+4969123480", "480", "0")],
    ids=["busy", "congested-carrier", "no-answer"],
)
def test_a_carrier_refusal_is_a_cdr_with_its_code(kamailio_pbx: Pbx, callee: str, code: str, q850: str) -> None:
    run = kamailio_pbx.place([SippCall("3102", callee)])
    [row] = _rows(cdr_lines_of(kamailio_pbx, run, expected=1))
    assert run.counts().received[code] == 1
    assert (row["sip_code"], row["q850_cause"], row["duration"], row["answer_ts"]) == (code, q850, "0.000000", "0")


def test_calls_over_the_channel_limit_are_refused_all_circuits_busy(kamailio_pbx: Pbx) -> None:
    """obs-par has 4 channels: 7 calls of 3 s started within 0.35 s → 4 answered, 3 blocked by the proxy."""
    calls = [SippCall(f"41{n:02d}", f"+3318000{n:04d}", 3.0) for n in range(7)]
    run = kamailio_pbx.place(calls, rate_per_s=20)
    counts = run.counts()
    rows = _rows(cdr_lines_of(kamailio_pbx, run, expected=7))
    blocked = [r for r in rows if r["sip_reason"] == "All circuits busy"]
    assert (counts.received["200"] - counts.sent["BYE"], counts.received["503"]) == (4, 3)
    assert len(blocked) == 3 and {r["sip_code"] for r in blocked} == {"503"} and {r["q850_cause"] for r in blocked} == {"34"}
    assert sum(r["sip_code"] == "200" for r in rows) == 4


def test_live_counts_follow_the_calls_in_progress(kamailio_pbx: Pbx) -> None:
    calls = [SippCall("3110", f"+4969555{n:03d}", 3.0) for n in range(3)]
    run = kamailio_pbx.caller(calls, rate_per_s=50).start()
    time.sleep(1.0)
    during = (kamailio_pbx.kamailio.active_calls(), kamailio_pbx.kamailio.trunk_calls("dtag-fra"))
    run.wait(timeout_s=15)
    time.sleep(0.2)
    after = (kamailio_pbx.kamailio.active_calls(), kamailio_pbx.kamailio.trunk_calls("dtag-fra"))
    assert during == (3, 3)
    assert after == (0, 0)


def test_inbound_and_internal_calls_reach_the_phones(kamailio_pbx: Pbx) -> None:
    run = kamailio_pbx.place([SippCall("+33612345678", "+33180001234", 1.0), SippCall("3120", "4105", 1.0)])
    rows = {r["callee"]: r for r in _rows(cdr_lines_of(kamailio_pbx, run, expected=2))}
    inbound = rows["+33180001234"]
    assert (inbound["direction"], inbound["trunk"], inbound["extension"]) == ("inbound", "obs-par", "1234")
    assert (rows["4105"]["direction"], rows["4105"]["trunk"], rows["4105"]["extension"]) == ("internal", "", "3120")
    assert {r["sip_code"] for r in rows.values()} == {"200"}


def test_the_real_cdr_file_parses_to_the_outcomes_sipp_saw(kamailio_pbx: Pbx, tmp_path: Path) -> None:
    """Answered, carrier-busy, carrier-congested and no-answer calls on both trunks: linewatch's parse of Kamailio's
    own CDR lines gives SIPp's answered/refused counts, and the held talk times."""
    calls = [SippCall("3130", "+4969700001", 1.2), SippCall("3131", "+4969700486"), SippCall("4110", "+33170000503"),
             SippCall("4111", "+33170000001", 0.8), SippCall("4112", "+33170000480")]  # fmt: skip
    run = kamailio_pbx.place(calls, rate_per_s=20)
    counts = run.counts()
    lines = cdr_lines_of(kamailio_pbx, run, expected=len(calls))
    source = CdrSource(name="kamailio", format="kamailio", path=kamailio_pbx.cdr_path)
    mapper = TrunkMapper([TrunkMap(match="dtag-fra", line="FRA-VOICE-1"), TrunkMap(match="obs-par", line="PAR-VOICE-1")],
                         inventory(tmp_path), source="kamailio")  # fmt: skip
    batch = parse(("\n".join(lines) + "\n").encode(), source, mapper=mapper, file=str(kamailio_pbx.cdr_path))
    frame = batch.calls.set_index("callee")
    assert not batch.problems
    assert frame.outcome.value_counts().to_dict() == {"answered": 2, "blocked": 2, "no_answer": 1}
    assert (frame.outcome == "answered").sum() == counts.received["200"] - counts.sent["BYE"]
    assert (frame.outcome != "answered").sum() == counts.received["486"] + counts.received["503"] + counts.received["480"]
    assert frame.line.to_dict() == {c.callee: "FRA-VOICE-1" if c.caller.startswith("31") else "PAR-VOICE-1"
                                    for c in calls}  # fmt: skip
    assert frame.loc["+4969700001", "billsec_s"] == pytest.approx(1.2, abs=0.05)
    assert frame.loc["+33170000001", "billsec_s"] == pytest.approx(0.8, abs=0.05)
