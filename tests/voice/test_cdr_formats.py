"""The CDR formats on sample files written per their documented column orders: every field lands in the call frame,
bad rows are quarantined with file:row: reason while the rest loads, call keys are stable."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from cdr_support import SAMPLES, T0, CdrEnv, cdr_env

from linewatch.voice.config import TrunkMap
from linewatch.voice.formats import ParsedBatch, parse, parser_for, read_file
from linewatch.voice.frame import CALL_COLUMNS
from linewatch.voice.mapping import TrunkMapper

H = 3600


@pytest.fixture
def env(tmp_path: Path) -> CdrEnv:
    return cdr_env(tmp_path)


def read(env: CdrEnv, source: str, sample: str) -> ParsedBatch:
    return read_file(SAMPLES / sample, env.source(source), mapper=env.mapper(source), layout=env.layout(source))


def by_row(batch: ParsedBatch) -> dict[int, dict]:
    return {int(str(r["source"]).rsplit(":", 1)[1]): r for r in batch.calls.to_dict("records")}


# row: (line, trunk, direction, outcome, extension, start_s, answer_s, end_s, billsec_s)
ASTERISK_ROWS = {
    1: ("FRA-VOICE-1", "PJSIP/dtag-00000002", "outbound", "answered", "3101", T0 + 8 * H, T0 + 8 * H + 5,
        T0 + 8 * H + 125, 120),
    2: ("FRA-VOICE-1", "PJSIP/dtag-00000003", "inbound", "answered", "3102", T0 + 8 * H + 60, T0 + 8 * H + 70,
        T0 + 8 * H + 190, 120),
    3: (None, "", "internal", "answered", "3103", T0 + 8 * H + 120, T0 + 8 * H + 122, T0 + 8 * H + 182, 60),
    4: ("PAR-VOICE-1", "PJSIP/obs-00000008", "outbound", "blocked", "4101", T0 + 8 * H + 180, None,
        T0 + 8 * H + 180, 0),
    5: ("PAR-VOICE-1", "PJSIP/obs-0000000a", "outbound", "blocked", "4102", T0 + 8 * H + 240, None,
        T0 + 8 * H + 241, 0),
    6: ("FRA-VOICE-1", "PJSIP/dtag-0000000b", "inbound", "busy", "3105", T0 + 8 * H + 300, None, T0 + 8 * H + 303, 0),
    7: ("FRA-VOICE-1", "PJSIP/dtag-0000000e", "outbound", "no_answer", "3106", T0 + 8 * H + 360, None,
        T0 + 8 * H + 390, 0),
    8: ("FRA-VOICE-1", "PJSIP/dtag-00000010", "outbound", "failed", "3107", T0 + 8 * H + 420, None,
        T0 + 8 * H + 421, 0),
}


def check_row(got: dict, want: tuple) -> None:
    line, trunk, direction, outcome, extension, start, answer, end, billsec = want
    assert (got["line"] if got["line"] is not None and str(got["line"]) != "<NA>" else None) == line
    assert (got["trunk"], got["direction"], got["outcome"], got["extension"]) == (trunk, direction, outcome,
                                                                                  extension)
    assert (got["start_s"], got["end_s"], got["billsec_s"]) == (start, end, billsec)
    assert got["duration_s"] == end - start
    if answer is None:
        assert got["answer_s"] != got["answer_s"]  # NaN
    else:
        assert got["answer_s"] == answer


@pytest.mark.parametrize("row", sorted(ASTERISK_ROWS))
def test_asterisk_master_csv_rows_become_calls(env: CdrEnv, row: int) -> None:
    """Each Master.csv row (documented cdr_csv order, uniqueid and userfield on, Europe/Berlin local times) gives
    its line, side, outcome (CONGESTION and a carrier's BUSY are blocked) and UTC times."""
    batch = read(env, "asterisk", "asterisk-Master.csv")
    assert batch.problems == [] and batch.rows == 8
    check_row(by_row(batch)[row], ASTERISK_ROWS[row])


def test_asterisk_frame_has_exactly_the_call_columns(env: CdrEnv) -> None:
    batch = read(env, "asterisk", "asterisk-Master.csv")
    assert list(batch.calls.columns) == list(CALL_COLUMNS)
    assert {c: str(t) for c, t in batch.calls.dtypes.items()} == CALL_COLUMNS


@pytest.mark.parametrize("columns", [16, 17])
def test_asterisk_without_uniqueid_or_userfield_columns(env: CdrEnv, tmp_path: Path, columns: int) -> None:
    """cdr.conf without loguserfield (17 columns) or without loguniqueid either (16): the same calls; without a
    uniqueid the key is the row's hash."""
    with (SAMPLES / "asterisk-Master.csv").open(newline="") as fh:
        rows = [row[:columns] for row in csv.reader(fh)]
    path = tmp_path / "Master.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    batch = read_file(path, env.source("asterisk"), mapper=env.mapper("asterisk"))
    assert batch.problems == []
    for row, want in ASTERISK_ROWS.items():
        check_row(by_row(batch)[row], want)
    keys = batch.calls["call_key"]
    assert keys.is_unique
    assert keys.str.contains(":r").all() == (columns == 16)


ASTERISK_PROBLEMS = {
    2: "truncated row: 11 of 18 columns",
    3: "bad start time '2026-11-31 09:10:00'",
    4: "bad start time 'yesterday'",
    5: "negative duration '-60'",
    6: "end '2026-11-02 09:29:00' before start '2026-11-02 09:30:00'",
    7: "unknown trunk: dstchannel 'PJSIP/vodafone-0000001c' matches no voice.yaml trunks entry (source 'asterisk')",
    8: "unknown disposition 'HUNG UP'",
}


def test_bad_asterisk_rows_are_quarantined_and_the_rest_loads(env: CdrEnv) -> None:
    """Truncated rows, impossible dates, negative durations, end before start, unknown trunks and dispositions: each
    a problem ``file:row: reason`` quoting the row; rows 1 and 9 load."""
    batch = read(env, "asterisk", "asterisk-bad.csv")
    got = {p.row: p.reason for p in batch.problems}
    assert got == ASTERISK_PROBLEMS
    assert sorted(by_row(batch)) == [1, 9]
    assert batch.rows == 9
    problem = next(p for p in batch.problems if p.row == 5)
    assert str(problem) == f"{SAMPLES / 'asterisk-bad.csv'}:5: negative duration '-60'"
    assert problem.raw.startswith('"","3101"') and "-60" in problem.raw


def test_trunk_mapped_to_a_data_line_is_quarantined_with_the_entry(env: CdrEnv, tmp_path: Path) -> None:
    """(check-config refuses such an entry; a mapper built over another inventory still says why.)"""
    row = (SAMPLES / "asterisk-Master.csv").read_text().splitlines()[0].replace("PJSIP/dtag-00000002",
                                                                               "PJSIP/net-00000002")
    path = tmp_path / "Master.csv"
    path.write_text(row + "\n")
    trunks = [*env.config.trunks, TrunkMap(match="PJSIP/net-*", line="FRA-NET-1")]
    batch = read_file(path, env.source("asterisk"), mapper=TrunkMapper(trunks, env.inventory, source="asterisk"))
    assert len(batch.calls) == 0
    assert batch.problems[0].reason == ("dstchannel 'PJSIP/net-00000002' matches voice.yaml trunks[5] "
                                        "('PJSIP/net-*'), whose line 'FRA-NET-1' is not a voice_trunk line")


def test_an_unterminated_quote_is_one_problem_for_both_rows(env: CdrEnv, tmp_path: Path) -> None:
    """A PBX killed mid-write leaves a quote open: the next row is swallowed into it; both rows are named, the rows
    after them load with their own numbers."""
    lines = (SAMPLES / "asterisk-Master.csv").read_text().splitlines(keepends=True)
    path = tmp_path / "Master.csv"
    path.write_text(lines[0] + lines[1][:60] + "\n" + "".join(lines[2:]))
    batch = read_file(path, env.source("asterisk"), mapper=env.mapper("asterisk"))
    assert [(p.row, p.reason) for p in batch.problems] == [
        (2, "unterminated quote: rows 2-3 read as one row of 21 columns, expected 18")]
    assert sorted(by_row(batch)) == [1, 4, 5, 6, 7, 8]


def test_row_numbers_follow_the_file_across_empty_lines_and_chunks(env: CdrEnv) -> None:
    """A chunk that starts at row 41 numbers its rows from 41; an empty line is skipped but counted."""
    lines = (SAMPLES / "asterisk-bad.csv").read_bytes().splitlines(keepends=True)
    data = lines[0] + b"\n" + lines[4]
    batch = parse(data, env.source("asterisk"), mapper=env.mapper("asterisk"), first_row=41, file="Master.csv")
    assert sorted(by_row(batch)) == [41]
    assert [str(p) for p in batch.problems] == ["Master.csv:43: negative duration '-60'"]
    assert batch.rows == 3


def test_call_keys_are_stable_and_per_source(env: CdrEnv, tmp_path: Path) -> None:
    """Re-reading a file gives the same keys (the store loads each call once); the same uniqueid in another source
    is another call."""
    first = read(env, "asterisk", "asterisk-Master.csv").calls["call_key"].tolist()
    again = read(env, "asterisk", "asterisk-Master.csv").calls["call_key"].tolist()
    assert first == again
    other = env.source("asterisk").model_copy(update={"name": "asterisk-2"})
    shutil.copy(SAMPLES / "asterisk-Master.csv", tmp_path / "copy.csv")
    theirs = read_file(tmp_path / "copy.csv", other, mapper=env.mapper("asterisk")).calls["call_key"].tolist()
    assert not set(first) & set(theirs)


# row: (line, trunk, direction, outcome, extension, q850)
FREESWITCH_ROWS = {
    1: ("FRA-VOICE-1", "dtag", "outbound", "answered", "3101", 16),
    2: ("FRA-VOICE-1", "dtag", "inbound", "answered", "3102", 16),
    3: (None, "", "internal", "answered", "3103", 16),
    4: ("FRA-VOICE-1", "dtag", "outbound", "blocked", "3106", 34),
    5: ("FRA-VOICE-1", "dtag", "outbound", "blocked", "3107", 17),
    6: ("FRA-VOICE-1", "dtag", "inbound", "busy", "3105", 17),
    7: ("FRA-VOICE-1", "dtag", "outbound", "no_answer", "3108", None),
    8: ("FRA-VOICE-1", "dtag", "outbound", "failed", "3109", 1),
}


@pytest.mark.parametrize("row", sorted(FREESWITCH_ROWS))
def test_freeswitch_default_template_rows_become_calls(env: CdrEnv, row: int) -> None:
    """mod_cdr_csv's default template: the gateway's accountcode names the trunk, the caller being an extension
    makes it outbound, hangup causes by their Q.850 code (a carrier's USER_BUSY or congestion: blocked)."""
    batch = read(env, "freeswitch", "freeswitch-Master.csv")
    assert batch.problems == []
    got = by_row(batch)[row]
    line, trunk, direction, outcome, extension, q850 = FREESWITCH_ROWS[row]
    assert (None if got["line"] is None or str(got["line"]) == "<NA>" else got["line"]) == line
    assert (got["trunk"], got["direction"], got["outcome"], got["extension"]) == (trunk, direction, outcome,
                                                                                  extension)
    assert (None if str(got["q850_cause"]) == "<NA>" else got["q850_cause"]) == q850
    assert got["call_key"].endswith(f"a1b2c3d4-000{row}-4000-8000-00000000000{row}")


def test_freeswitch_times_are_the_switch_local_times(env: CdrEnv) -> None:
    got = by_row(read(env, "freeswitch", "freeswitch-Master.csv"))[1]
    assert (got["start_s"], got["answer_s"], got["end_s"], got["billsec_s"]) == (
        T0 + 8 * H, T0 + 8 * H + 5, T0 + 8 * H + 125, 120)


# row: (line, direction, outcome, extension, start_s, billsec_s, sip)
LAYOUT_ROWS = {
    1: ("FRA-VOICE-1", "outbound", "answered", "3101", T0 + 8 * H, 120, 200),
    2: ("FRA-VOICE-1", "inbound", "answered", "3102", T0 + 8 * H + 60, 120, 200),
    3: (None, "internal", "answered", "3103", T0 + 8 * H + 120, 60, 200),
    4: ("FRA-VOICE-1", "outbound", "blocked", "3106", T0 + 8 * H + 180, 0, 503),
    5: ("FRA-VOICE-1", "outbound", "no_answer", "3107", T0 + 8 * H + 240, 0, 487),
    6: ("FRA-VOICE-1", "outbound", "failed", "3108", T0 + 8 * H + 300, 0, 404),
}


@pytest.mark.parametrize("row", sorted(LAYOUT_ROWS))
def test_csv_layout_maps_columns_directions_and_outcomes(env: CdrEnv, row: int) -> None:
    """A configurable layout: '|' delimiter, header names, a date and a time column joined, direction and
    disposition values mapped, a 503 on an outbound call is blocked."""
    batch = read(env, "pbx", "pbx-layout.csv")
    assert batch.problems == [] and batch.rows == 7
    got = by_row(batch)[row + 1]  # row 1 is the header
    line, direction, outcome, extension, start, billsec, sip = LAYOUT_ROWS[row]
    assert (None if str(got["line"]) == "<NA>" else got["line"]) == line
    assert (got["direction"], got["outcome"], got["extension"]) == (direction, outcome, extension)
    assert (got["start_s"], got["billsec_s"], got["sip_code"]) == (start, billsec, sip)


def test_itemized_calls_carry_the_carriers_figures(env: CdrEnv) -> None:
    """Orange Business's itemized records (the sample H5 agreed): the circuit maps to the line, dd/mm/yyyy Paris
    times, and the carrier's billed seconds, amount and class as extra columns after the call columns."""
    batch = read(env, "obs-itemized", "obs-itemized.csv")
    assert batch.problems == []
    calls = batch.calls
    assert list(calls.columns) == [*CALL_COLUMNS, "carrier_billed_s", "carrier_amount", "carrier_class"]
    first = calls.iloc[0]
    assert first["line"] == "PAR-VOICE-1" and first["direction"] == "outbound" and first["outcome"] == "answered"
    assert first["start_s"] == T0 + 24 * H + 8 * H + 15 * 60 + 4  # 03/11/2026 09:15:04 Paris = 08:15:04Z
    assert (first["billsec_s"], first["carrier_billed_s"], first["carrier_amount"]) == (62, 66, 0.02)
    assert calls["carrier_class"].tolist() == ["National", "Mobile", "International", "Numéro spécial", "Local"]
    assert calls["callee"].tolist()[3] == "0899123456"


def test_a_headered_layout_chunk_after_the_first_reads_the_header_from_the_file(env: CdrEnv, tmp_path: Path) -> None:
    """A tailed headered file: the second chunk has no header line; its columns are still found by name."""
    path = tmp_path / "pbx.csv"
    shutil.copy(SAMPLES / "pbx-layout.csv", path)
    lines = path.read_bytes().splitlines(keepends=True)
    batch = parse(b"".join(lines[3:]), env.source("pbx"), mapper=env.mapper("pbx"), layout=env.layout("pbx"),
                  first_row=4, file=str(path))
    assert batch.problems == []
    assert sorted(by_row(batch)) == [4, 5, 6, 7]
    assert by_row(batch)[5]["outcome"] == "blocked"


def test_layout_disposition_not_listed_is_quarantined(env: CdrEnv, tmp_path: Path) -> None:
    path = tmp_path / "pbx.csv"
    path.write_text((SAMPLES / "pbx-layout.csv").read_text().replace("|OK|200\nX-2", "|WEIRD|200\nX-2"))
    batch = read_file(path, env.source("pbx"), mapper=env.mapper("pbx"), layout=env.layout("pbx"))
    assert [(p.row, p.reason) for p in batch.problems] == [(2, "disposition not in layout 'pbx' outcomes 'WEIRD'")]
    assert len(batch.calls) == 5


def test_the_dispatcher_loads_each_format_module_by_name() -> None:
    assert parser_for("asterisk").__module__ == "linewatch.voice.formats.asterisk"
    assert parser_for("freeswitch").__module__ == "linewatch.voice.formats.freeswitch"
    assert parser_for("csv").__module__ == "linewatch.voice.formats.csvlayout"


def test_csv_source_without_its_layout_is_an_error(env: CdrEnv) -> None:
    with pytest.raises(ValueError, match="format csv: pass its layout"):
        parse(b"x\n", env.source("pbx"), mapper=env.mapper("pbx"), file="pbx.csv")
