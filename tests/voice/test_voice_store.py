"""The call store (linewatch/voice/store.py) on real SQLite files: exactly-once inserts, one transaction per batch,
window queries, bundles, problems, offsets, private file modes and a million calls."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from voice_pipeline_support import T0, calls

from linewatch.settings import Settings
from linewatch.voice.config import VoiceConfig
from linewatch.voice.frame import ALL_COLUMNS
from linewatch.voice.records import RowProblem, TailOffset
from linewatch.voice.store import CallStore, CallStoreError, store_path

OFFSET = TailOffset("pbx", "/var/log/asterisk/cdr-csv/Master.csv", 2049, 77, "ab" * 20, 4096, 12)


@pytest.fixture
def store(tmp_path: Path):
    with CallStore(tmp_path / "var" / "calls.sqlite") as s:
        yield s


def test_add_inserts_new_calls_and_returns_them_with_every_column(store: CallStore) -> None:
    added = store.add(calls([{"start": 0, "end": 60}, {"start": 10, "end": 20, "outcome": "blocked"}]))
    assert list(added.columns) == list(ALL_COLUMNS)
    assert list(added["call_key"]) == ["k0", "k1"]
    assert added["cost"].tolist() == [0.0, 0.0]  # not rated: cost 0
    assert store.count() == 2


def test_a_call_read_twice_is_stored_once(store: CallStore) -> None:
    batch = calls([{"start": 0, "end": 60}, {"start": 5, "end": 65}])
    store.add(batch)
    again = store.add(pd.concat([batch, calls([{"start": 7, "end": 9, "key": "new"}])]))
    assert list(again["call_key"]) == ["new"]
    assert store.count() == 3


def test_repeated_keys_within_one_batch_keep_the_first(store: CallStore) -> None:
    added = store.add(calls([{"start": 0, "end": 60, "key": "same"}, {"start": 1, "end": 2, "key": "same"}]))
    assert added["end_s"].tolist() == [T0 + 60.0]


def test_calls_round_trip_with_frame_dtypes_and_missing_values(store: CallStore) -> None:
    batch = calls([{"start": 0, "end": 30, "outcome": "no_answer", "sip_code": 487},
                   {"start": 3, "end": 93, "q850": 16, "high_risk": True, "cost": 1.25}], rated=True)
    store.add(batch)
    back = store.calls(start_s=T0, end_s=T0 + 60)
    assert dict(back.dtypes.astype(str)) == ALL_COLUMNS
    pd.testing.assert_frame_equal(back, batch.reset_index(drop=True))
    assert back["answer_s"].isna().tolist() == [True, False]
    assert back["q850_cause"].isna().tolist() == [True, False]


def test_started_window_and_overlapping_window(store: CallStore) -> None:
    store.add(calls([{"start": -600, "end": 30, "key": "long-before"},  # in progress at the window's start
                     {"start": -100, "end": -10, "key": "ended-before"},
                     {"start": 0, "end": 10, "key": "inside"},
                     {"start": 59, "end": 200, "key": "starts-inside"},
                     {"start": 60, "end": 70, "key": "after"}]))
    started = store.calls(start_s=T0, end_s=T0 + 60, columns=["call_key"])
    assert started["call_key"].tolist() == ["inside", "starts-inside"]
    overlapping = store.calls(start_s=T0, end_s=T0 + 60, overlapping=True, columns=["call_key"])
    assert overlapping["call_key"].tolist() == ["long-before", "inside", "starts-inside"]


def test_calls_filters_lines_limits_and_orders_newest_first(store: CallStore) -> None:
    store.add(calls([{"start": i, "end": i + 5, "line": "PAR-VOICE-1" if i % 2 else "FRA-VOICE-1"}
                     for i in range(10)]))
    par = store.calls(lines=["PAR-VOICE-1"], start_s=T0, end_s=T0 + 60, columns=["line", "start_s"])
    assert set(par["line"]) == {"PAR-VOICE-1"} and len(par) == 5
    newest = store.calls(start_s=T0, end_s=T0 + 60, limit=3, newest_first=True, columns=["start_s"])
    assert newest["start_s"].tolist() == [T0 + 9.0, T0 + 8.0, T0 + 7.0]


def test_unknown_column_is_named(store: CallStore) -> None:
    with pytest.raises(ValueError, match="unknown call column.*price"):
        store.calls(start_s=0, end_s=1, columns=["price"])


def test_bundle_used_counts_the_lines_calls_started_in_the_window(store: CallStore) -> None:
    store.add(calls([{"start": 0, "end": 60, "bundle_s": 60.0},
                     {"start": 100, "end": 160, "bundle_s": 30.0},
                     {"start": 200, "end": 260, "bundle_s": 60.0, "line": "PAR-VOICE-1"},
                     {"start": 5000, "end": 5060, "bundle_s": 60.0}], rated=True))
    assert store.bundle_used_s("FRA-VOICE-1", T0, T0 + 3600) == 90.0
    assert store.bundle_used_s("NOPE", T0, T0 + 3600) == 0.0


def test_problems_and_offset_commit_with_the_calls(store: CallStore) -> None:
    problems = [RowProblem("Master.csv", 4, "end before start", "a,b,c"), RowProblem("Master.csv", 9, "bad date")]
    store.add(calls([{"start": 0, "end": 1}]), problems=problems, offset=OFFSET)
    assert store.offset("pbx") == OFFSET
    assert store.offset("other") is None
    assert [str(p) for p in store.problems(source="pbx")] == ["Master.csv:9: bad date",
                                                              "Master.csv:4: end before start"]
    assert store.problems(source="pbx")[1].raw == "a,b,c"
    assert store.problem_count() == 2


def test_a_failed_batch_commits_nothing_not_even_its_offset(store: CallStore) -> None:
    bad = calls([{"start": 0, "end": 1}])
    bad["start_s"] = bad["start_s"].astype(object)
    bad.loc[0, "start_s"] = object()  # sqlite3 cannot bind it: the insert fails inside the transaction
    with pytest.raises((sqlite3.Error, TypeError, ValueError)):
        store.add(bad, problems=[RowProblem("f", 1, "x")], offset=OFFSET)
    assert store.offset("pbx") is None and store.problem_count() == 0 and store.count() == 0


def test_the_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state" / "calls.sqlite"
    CallStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite"
    with CallStore(path) as writer:
        writer.add(calls([{"start": 0, "end": 1}]))
    with CallStore(path, read_only=True) as reader:
        assert reader.count() == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.add(calls([{"start": 2, "end": 3, "key": "x"}]))


def test_read_only_open_of_a_missing_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(CallStoreError, match="no call store yet"):
        CallStore(tmp_path / "none.sqlite", read_only=True)


@pytest.mark.parametrize(("store_setting", "expected"), [
    pytest.param(None, "state/calls.sqlite", id="default-under-state-dir"),
    pytest.param(Path("../run/calls.sqlite"), "config/../run/calls.sqlite", id="relative-to-voice-yaml"),
    pytest.param(Path("/abs/calls.sqlite"), "/abs/calls.sqlite", id="absolute"),
])
def test_store_path(tmp_path: Path, store_setting: Path | None, expected: str) -> None:
    (tmp_path / "config").mkdir()
    settings = Settings(state_dir=Path("state"), voice_path=Path("config/voice.yaml")).model_copy(
        update={"config_file": tmp_path / "linewatch.yaml"})
    path = store_path(settings, VoiceConfig(store_path=store_setting))
    assert str(path) == (expected if expected.startswith("/") else str(tmp_path / expected))


@pytest.mark.slow
def test_a_month_of_calls_goes_in_once_and_a_day_is_read_through_the_start_index(tmp_path: Path) -> None:
    """Regression: this was a timed test (a million calls "quickly"); speed is bench cdr-rate's job. What must
    hold at any size: every call stored once, a day's window read back whole, and by the index, not a scan."""
    n = 100_000
    rng = np.random.default_rng(1)
    start = T0 + np.sort(rng.uniform(0, 30 * 86400, n))
    hold = rng.exponential(180, n)
    frame = calls([{"start": 0, "end": 1}], rated=True)
    frame = frame.loc[np.zeros(n, dtype=int)].reset_index(drop=True)
    frame["call_key"] = pd.array([f"{i:012x}" for i in range(n)], dtype="string")
    frame["start_s"] = start
    frame["end_s"] = start + hold
    with CallStore(tmp_path / "calls.sqlite") as store:
        assert len(store.add(frame)) == n
        assert len(store.add(frame)) == 0  # the same calls again: none stored twice
        day = store.calls(start_s=T0 + 86400, end_s=T0 + 2 * 86400, overlapping=True)
        plan = " ".join(str(row[-1]) for row in store._conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM calls WHERE start_s >= ? AND start_s < ?", (T0, T0 + 86400)))
    in_day = ((start < T0 + 2 * 86400) & (start + hold > T0 + 86400)).sum()
    assert len(day) == in_day
    assert "USING INDEX" in plan, plan
