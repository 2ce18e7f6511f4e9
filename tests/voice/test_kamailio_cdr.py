"""The Kamailio CDR format (linewatch.voice.formats.kamailio): lines as the PBX's acc/db_flatstore writes them
become the call frame — times, outcome by side and code, trunk → line, direction and extension — and bad lines are
quarantined with file:row: reason while the others load."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from linewatch.voice.config import TrunkMap
from linewatch.voice.formats import parse
from linewatch.voice.formats.config import CdrSource
from linewatch.voice.formats.kamailio import COLUMNS
from linewatch.voice.frame import CALL_COLUMNS
from linewatch.voice.mapping import TrunkMapper
from tests.voice.voice_pipeline_support import inventory

T = 1_796_198_000.0  # 2026-12-02 07:53:20 UTC
SOURCE = CdrSource(name="kamailio", format="kamailio", path=Path("cdrs.log"))
TRUNKS = [TrunkMap(match="dtag-*", line="FRA-VOICE-1"), TrunkMap(match="obs-par", line="PAR-VOICE-1"),
          TrunkMap(match="ghost", line="NO-SUCH-LINE")]  # fmt: skip


def cdr(*, callid: str = "1-100@127.0.0.1", trunk: str = "dtag-fra", direction: str = "outbound",
        caller: str = "3101", callee: str = "+4969123456", extension: str = "", code: str = "200", reason: str = "OK", q850: str = "0",
        invite: float = T, answer: float | None = T + 0.5, duration: str = "60.500") -> str:  # fmt: skip
    """One CDR line in the column order of COLUMNS."""
    answer_ts = f"{answer:.6f}" if answer is not None else "0"
    end = int(invite + float(duration)) if duration.replace(".", "").isdigit() else int(invite)
    values = [str(int(invite)), str(end), duration, callid, trunk, direction, caller, callee, extension, code, reason, q850,
              f"{invite:.6f}", answer_ts]  # fmt: skip
    assert len(values) == len(COLUMNS)
    return "|".join(values)


@pytest.fixture
def mapper(tmp_path: Path) -> TrunkMapper:
    return TrunkMapper(TRUNKS, inventory(tmp_path), source=SOURCE.name)


def _parse(mapper: TrunkMapper, *lines: str, source: CdrSource = SOURCE):
    return parse(("\n".join(lines) + "\n").encode(), source, mapper=mapper, file="cdrs.log")


def test_an_answered_call_has_its_times_trunk_line_and_extension(mapper: TrunkMapper) -> None:
    batch = _parse(mapper, cdr())
    assert not batch.problems and batch.rows == 1
    call = batch.calls.iloc[0]
    assert list(batch.calls.columns) == list(CALL_COLUMNS)
    assert (call.start_s, call.answer_s, call.end_s) == pytest.approx((T, T + 0.5, T + 60.5))
    assert (call.duration_s, call.billsec_s) == pytest.approx((60.5, 60.0))
    assert (call.trunk, call.line, call.direction, call.extension, call.outcome, call.sip_code) == (
        "dtag-fra", "FRA-VOICE-1", "outbound", "3101", "answered", 200)  # fmt: skip
    assert pd.isna(call.q850_cause) and call.source == "cdrs.log:1"


@pytest.mark.parametrize(
    ("direction", "code", "q850", "outcome"),
    [
        ("outbound", "503", "34", "blocked"),  # the proxy's channel limit, or the carrier congested
        ("outbound", "503", "0", "blocked"),  # the carrier's 503 without a Reason header
        ("outbound", "486", "0", "blocked"),  # busy from the carrier side: no channel
        ("inbound", "486", "0", "busy"),  # the called extension is busy
        ("inbound", "503", "34", "blocked"),  # an inbound call over the trunk's channels
        ("outbound", "480", "0", "no_answer"),
        ("outbound", "408", "0", "no_answer"),
        ("outbound", "487", "0", "no_answer"),
        ("outbound", "404", "0", "failed"),
        ("outbound", "500", "0", "failed"),
    ],
)
def test_an_unanswered_call_gets_its_outcome_from_side_and_codes(mapper: TrunkMapper, direction: str, code: str,
                                                                 q850: str, outcome: str) -> None:  # fmt: skip
    batch = _parse(mapper, cdr(direction=direction, code=code, reason="x", q850=q850, answer=None, duration="0.000"))
    call = batch.calls.iloc[0]
    assert (call.outcome, call.sip_code, call.billsec_s, call.duration_s) == (outcome, int(code), 0.0, 0.0)
    assert pd.isna(call.answer_s) and (pd.isna(call.q850_cause) if q850 == "0" else call.q850_cause == int(q850))


def test_inbound_and_internal_calls_have_the_company_party_as_extension(mapper: TrunkMapper) -> None:
    batch = _parse(mapper, cdr(callid="a", trunk="obs-par", direction="inbound", caller="+33612345678",
                               callee="+33180004105", extension="4105"),
                   cdr(callid="b", trunk="", direction="internal", caller="3101", callee="3150"),
                   cdr(callid="c", trunk="obs-par", direction="inbound", caller="+33612345678",
                       callee="+33180004106"))  # fmt: skip
    inbound, internal, unnamed = batch.calls.iloc[0], batch.calls.iloc[1], batch.calls.iloc[2]
    assert (inbound.line, inbound.extension, inbound.direction) == ("PAR-VOICE-1", "4105", "inbound")
    assert unnamed.extension == "+33180004106"  # without the PBX's extension: the number called
    assert (internal.trunk, internal.extension, internal.direction) == ("", "3101", "internal")
    assert pd.isna(internal.line)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1796198000|1796198060|60.5|x|dtag-fra|outbound", "truncated row: 6 of 14 columns"),
        (cdr(duration="soon"), "bad duration 'soon'"),
        (cdr(duration="-3.000"), "negative duration '-3.000'"),
        (cdr(direction="sideways"), "unknown direction (inbound, outbound, internal) 'sideways'"),
        (cdr(trunk="vodafone-1"), "unknown trunk: trunk 'vodafone-1' matches no voice.yaml trunks entry"),
        (cdr(trunk="ghost"), "whose line 'NO-SUCH-LINE' is not in the inventory"),
        (cdr(trunk=""), "no trunk on an inbound/outbound call"),
        (cdr(code="2OO"), "bad sip_code '2OO'"),
        (cdr(answer=T + 500.0), "outside the call"),
    ],
    ids=["truncated", "bad-duration", "negative-duration", "direction", "unknown-trunk", "trunk-not-a-line",
         "no-trunk", "bad-code", "answer-after-end"],
)
def test_a_bad_cdr_is_quarantined_with_its_row_and_reason_and_the_rest_loads(mapper: TrunkMapper, line: str,
                                                                             reason: str) -> None:  # fmt: skip
    batch = _parse(mapper, cdr(callid="good-1"), line, cdr(callid="good-2"))
    assert [p.row for p in batch.problems] == [2]
    assert reason in str(batch.problems[0]) and str(batch.problems[0]).startswith("cdrs.log:2: ")
    assert len(batch.calls) == 2 and batch.rows == 3


def test_call_keys_are_the_call_id_per_source_stable_across_reads(mapper: TrunkMapper) -> None:
    lines = (cdr(callid="1-7@127.0.0.1"), cdr(callid="2-7@127.0.0.1"))
    first, again = _parse(mapper, *lines), _parse(mapper, *lines)
    other = _parse(mapper, *lines, source=SOURCE.model_copy(update={"name": "kamailio-2"}))
    assert first.calls.call_key.tolist() == again.calls.call_key.tolist()
    assert first.calls.call_key.nunique() == 2
    assert set(first.calls.call_key).isdisjoint(other.calls.call_key)


def test_an_escaped_delimiter_is_read_back(mapper: TrunkMapper) -> None:
    batch = _parse(mapper, cdr(caller="3101%7Cx"))
    assert batch.calls.iloc[0].caller == "3101|x"


def test_first_row_numbers_a_tailed_chunk(mapper: TrunkMapper) -> None:
    batch = parse((cdr() + "\n" + cdr(duration="bad") + "\n").encode(), SOURCE, mapper=mapper, first_row=41,
                  file="cdrs.log")  # fmt: skip
    assert batch.calls.source.tolist() == ["cdrs.log:41"] and [p.row for p in batch.problems] == [42]
