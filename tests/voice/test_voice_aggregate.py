"""Calls to per-minute measurements (collector/voice/aggregate.py): concurrency from start/end times, counts of the
calls started, minutes by direction and class, points with the line tags. Pure logic on crafted call frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from voice_pipeline_support import T0, calls, inventory

from collector.voice.aggregate import capacity_table, class_table, minute_table, occupancy, points
from linewatch.voice.erlang import channels_for, erlang_b
from linewatch.voice.config import voice_lines


@pytest.fixture
def lines(tmp_path: Path):
    return voice_lines(inventory(tmp_path))


def brute_force(start: np.ndarray, end: np.ndarray, edges: np.ndarray, step: float = 0.01):
    """Per bucket the max and mean of the open count, sampled every ``step`` seconds (reference)."""
    out_max, out_mean = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        t = np.arange(a, b, step)
        level = ((start[None, :] <= t[:, None]) & (end[None, :] > t[:, None])).sum(axis=1)
        out_max.append(level.max())
        out_mean.append(level.mean())
    return np.array(out_max), np.array(out_mean)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_occupancy_matches_a_sampled_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = np.round(rng.uniform(0, 300, 40), 2)
    end = start + np.round(rng.exponential(60, 40), 2)
    edges = np.arange(0, 361, 60, dtype="float64")
    busy_max, busy_mean = occupancy(start, end, edges)
    ref_max, ref_mean = brute_force(start, end, edges)
    assert busy_max.tolist() == ref_max.tolist()
    np.testing.assert_allclose(busy_mean, ref_mean, atol=0.02)


@pytest.mark.parametrize(("rows", "expected_max", "expected_mean"), [
    pytest.param([{"start": 0, "end": 60}], [1], [1.0], id="one-call-the-whole-minute"),
    pytest.param([{"start": 0, "end": 30}, {"start": 30, "end": 60}], [1], [1.0],
                 id="back-to-back-calls-share-one-channel"),
    pytest.param([{"start": 10, "end": 20}, {"start": 15, "end": 50}, {"start": 16, "end": 17}], [3],
                 [(10 + 35 + 1) / 60], id="three-overlap-briefly"),
    pytest.param([{"start": -120, "end": 150}], [1, 1, 1], [1.0, 1.0, 0.5],
                 id="in-progress-before-the-window"),
    pytest.param([{"start": 0, "end": 60, "direction": "internal"}, {"start": 0, "end": 60}], [1], [1.0],
                 id="internal-calls-take-no-channel"),
    pytest.param([{"start": 0, "end": 60}, {"start": 5, "end": 6, "outcome": "blocked"}], [1], [1.0],
                 id="blocked-calls-hold-no-channel"),
])
def test_busy_channels_per_minute(lines, rows, expected_max, expected_mean) -> None:
    table = minute_table(calls(rows), lines=lines, start_s=T0, end_s=T0 + 60 * len(expected_max))
    table = table[table["line"] == "FRA-VOICE-1"]
    assert table["busy_max"].tolist() == expected_max
    np.testing.assert_allclose(table["busy_mean"], expected_mean)


def test_counts_belong_to_the_minute_the_call_started_in(lines) -> None:
    frame = calls([
        {"start": 5, "end": 125, "answer": 10},  # answered, 115 s talk, runs into minute 3
        {"start": 20, "end": 50, "outcome": "no_answer"},
        {"start": 30, "end": 30.2, "outcome": "blocked"},
        {"start": 40, "end": 100, "direction": "inbound"},
        {"start": 70, "end": 80, "direction": "internal"},
    ], rated=True)
    table = minute_table(frame, lines=lines, start_s=T0, end_s=T0 + 180).set_index("time_s")
    first, second, third = table.loc[T0], table.loc[T0 + 60], table.loc[T0 + 120]
    assert (first["attempts"], first["answered"], first["failed"], first["blocked"]) == (4, 2, 2, 1)
    assert first["asr_pct"] == 50.0
    assert first["acd_s"] == pytest.approx((115 + 60) / 2)
    assert first["minutes_outbound"] == pytest.approx(115 / 60) and first["minutes_inbound"] == 1.0
    assert first["busy_max"] == 3 and first["channels"] == 30 and first["channel_util_pct"] == pytest.approx(10.0)
    assert (second["attempts"], second["minutes_internal"]) == (1, pytest.approx(10 / 60))
    assert second["busy_max"] == 2  # the 5-125 call and the inbound one (the internal call takes no channel)
    assert third["attempts"] == 0 and np.isnan(third["asr_pct"]) and np.isnan(third["acd_s"])
    assert third["busy_max"] == 1  # only in progress: the row exists with zero counts


def test_fraud_counts_and_cost(lines) -> None:
    frame = calls([
        {"start": 1, "end": 61, "dest_class": "international", "high_risk": True, "cost": 2.5},
        {"start": 2, "end": 62, "dest_class": "premium", "cost": 1.99},
        {"start": 3, "end": 63, "dest_class": "international", "direction": "inbound"},
    ], rated=True)
    row = minute_table(frame, lines=lines, start_s=T0, end_s=T0 + 60).iloc[0]
    assert (row["international"], row["premium"], row["high_risk"]) == (1, 1, 1)
    assert row["cost"] == pytest.approx(4.49)


def test_line_without_channels_has_no_utilization_and_unknown_lines_are_left_out(lines) -> None:
    frame = calls([{"start": 0, "end": 60, "line": "NOCH-VOICE"}, {"start": 0, "end": 60, "line": "GHOST"},
                   {"start": 0, "end": 60, "line": None}])
    table = minute_table(frame, lines=lines, start_s=T0, end_s=T0 + 60)
    assert table["line"].tolist() == ["NOCH-VOICE"]
    assert table["channels"].isna().all() and table["channel_util_pct"].isna().all()


def test_an_empty_frame_gives_an_empty_table(lines) -> None:
    assert minute_table(calls([]), lines=lines, start_s=T0, end_s=T0 + 600).empty
    assert class_table(calls([], rated=True), lines=lines, start_s=T0, end_s=T0 + 600).empty


def test_class_table_per_direction_and_class(lines) -> None:
    frame = calls([
        {"start": 1, "end": 121, "dest_class": "mobile", "cost": 0.3},
        {"start": 2, "end": 62, "dest_class": "mobile", "cost": 0.2},
        {"start": 3, "end": 4, "dest_class": "mobile", "outcome": "busy"},
        {"start": 4, "end": 64, "dest_class": "national", "direction": "inbound"},
    ], rated=True)
    table = class_table(frame, lines=lines, start_s=T0, end_s=T0 + 60)
    rows = {(r.direction, r.dest_class): (r.calls, r.answered, r.minutes, r.cost) for r in table.itertuples()}
    assert rows[("outbound", "mobile")] == (3, 2, pytest.approx(3.0), pytest.approx(0.5))
    assert rows[("inbound", "national")] == (1, 1, 1.0, 0.0)


def test_points_carry_the_line_tags_and_integer_counts(lines) -> None:
    frame = calls([{"start": 0, "end": 60, "line": "PAR-VOICE-1", "dest_class": "local"}], rated=True)
    minutes = minute_table(frame, lines=lines, start_s=T0, end_s=T0 + 60)
    classes = class_table(frame, lines=lines, start_s=T0, end_s=T0 + 60)
    trunk, cls = points(minutes=minutes, classes=classes, lines=lines)
    assert trunk.measurement == "voice_trunk" and cls.measurement == "voice_minutes"
    assert trunk.tags == {"line": "PAR-VOICE-1", "carrier": "Orange Business", "site": "Paris",
                          "department": "Operations", "line_type": "voice_trunk"}
    assert cls.tags["direction"] == "outbound" and cls.tags["dest_class"] == "local"
    assert trunk.time_ns == T0 * 1_000_000_000
    assert type(trunk.fields["busy_max"]) is int and type(trunk.fields["blocked"]) is int
    assert trunk.fields["blocked"] == 0 and trunk.fields["channels"] == 10
    assert trunk.fields["channel_util_pct"] == 10.0 and "acd_s" in trunk.fields
    assert type(trunk.fields["busy_mean"]) is float


def test_a_month_of_calls_is_aggregated_column_wise(lines) -> None:
    n = 200_000
    rng = np.random.default_rng(7)
    start = T0 + rng.uniform(0, 30 * 86400, n)
    frame = calls([{"start": 0, "end": 1}], rated=True).loc[np.zeros(n, dtype=int)].reset_index(drop=True)
    frame["call_key"] = pd.array(np.arange(n).astype(str), dtype="string")
    frame["start_s"], frame["end_s"] = start, start + rng.exponential(180, n)
    frame["line"] = pd.array(np.where(rng.random(n) < 0.5, "FRA-VOICE-1", "PAR-VOICE-1"), dtype="string")
    import time

    began = time.perf_counter()
    table = minute_table(frame, lines=lines, start_s=T0, end_s=T0 + 30 * 86400)
    took = time.perf_counter() - began
    assert table["attempts"].sum() == n
    assert took < 5, f"{took:.1f} s for {n} calls"


def test_capacity_of_a_day_busy_hour_offered_traffic_and_channels(lines) -> None:
    # 10:00-11:00 UTC: 6 calls of 30 min inside the hour (3 E) and 6 from half past running past its end
    # (2.75 E in it), 4 blocked of the hour's 16 attempts; a quiet call at night
    hour = 10 * 3600
    rows = [{"start": hour + 60 * i, "end": hour + 60 * i + 1800, "line": "PAR-VOICE-1"} for i in range(6)]
    rows += [{"start": hour + 60 * i, "end": hour + 60 * i + 1800, "line": "PAR-VOICE-1"} for i in range(30, 36)]
    rows += [{"start": hour + 100 + i, "end": hour + 100.5 + i, "line": "PAR-VOICE-1", "outcome": "blocked"}
             for i in range(4)]
    rows += [{"start": 3 * 3600, "end": 3 * 3600 + 600, "line": "PAR-VOICE-1"}]  # a quiet night call
    table = capacity_table(calls(rows), lines=lines, day_start_s=T0, day_end_s=T0 + 86400, target_gos=0.01)
    [row] = table.to_dict("records")
    assert row["line"] == "PAR-VOICE-1" and row["time_s"] == T0
    assert row["busy_hour_start_s"] == T0 + hour
    assert row["busy_hour_erlangs"] == pytest.approx(5.75)
    offered = 5.75 / (1 - 4 / 16)
    assert row["offered_erlangs"] == pytest.approx(offered)
    assert row["blocking_pct"] == pytest.approx(erlang_b(offered, 10) * 100)
    assert row["channels_needed"] == channels_for(offered, gos=0.01) == 15
    assert (row["blocked"], row["calls"], row["channels"]) == (4, 17, 10)


def test_capacity_without_channels_has_no_blocking_and_quiet_lines_no_row(lines) -> None:
    table = capacity_table(calls([{"start": 0, "end": 3600, "line": "NOCH-VOICE"}]), lines=lines,
                           day_start_s=T0, day_end_s=T0 + 86400)
    [row] = table.to_dict("records")
    assert row["line"] == "NOCH-VOICE" and np.isnan(row["blocking_pct"]) and pd.isna(row["channels"])
    [point] = points(capacity=table, lines=lines)
    assert "blocking_pct" not in point.fields and "channels" not in point.fields
    assert point.fields["busy_hour_erlangs"] == pytest.approx(1.0) and type(point.fields["calls"]) is int
