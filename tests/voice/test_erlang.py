"""Erlang B against published table values, channels for a grade of service, busy hour, offered and design traffic.

The table values are those printed in every Erlang B table (e.g. the ITU-T E.xxx handbooks, Cisco's and
Avaya's traffic tables): the traffic in Erlangs that N channels carry at a blocking probability of 1 %, 2 % and
5 %, rounded to two decimals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from linewatch.voice.erlang import busy_hour, channels_for, design_traffic, erlang_b, offered_traffic

# (channels, grade of service, traffic in Erlangs) from published Erlang B tables.
ERLANG_B_TABLE = [
    (1, 0.01, 0.0101), (2, 0.01, 0.153), (5, 0.01, 1.36), (10, 0.01, 4.46), (15, 0.01, 8.11),
    (20, 0.01, 12.03), (30, 0.01, 20.34), (50, 0.01, 37.90), (100, 0.01, 84.06),
    (10, 0.02, 5.08), (20, 0.02, 13.18), (30, 0.02, 21.93),
    (1, 0.05, 0.0526), (10, 0.05, 6.22), (20, 0.05, 15.25), (30, 0.05, 24.80), (50, 0.05, 44.53),
    (100, 0.05, 95.24),
]


@pytest.mark.parametrize(("channels", "gos", "traffic_erl"), ERLANG_B_TABLE,
                         ids=[f"N{n}-{g:.0%}" for n, g, _a in ERLANG_B_TABLE])
def test_erlang_b_matches_the_published_tables(channels: int, gos: float, traffic_erl: float) -> None:
    # The table's traffic is rounded to 2 decimals: the blocking it gives is the grade within 1 %.
    assert erlang_b(traffic_erl, channels) == pytest.approx(gos, rel=0.01)
    assert channels_for(traffic_erl * 0.99, gos) == channels
    assert channels_for(traffic_erl * 1.01, gos) > channels  # 1 % more traffic: N no longer suffice


@pytest.mark.parametrize(("traffic_erl", "channels", "blocking"), [
    (0.0, 5, 0.0),
    (3.0, 0, 1.0),  # no channel: every call is lost
    (1.0, 1, 0.5),  # A / (1 + A)
    (2.0, 2, 0.4),  # (A^2/2) / (1 + A + A^2/2) = 2 / 5
    (9.0, 10, 0.1680),  # PAR-VOICE-1 in the demo: about 17 % blocked
])
def test_erlang_b_exact_values(traffic_erl: float, channels: int, blocking: float) -> None:
    assert erlang_b(traffic_erl, channels) == pytest.approx(blocking, abs=5e-5)


def test_erlang_b_is_stable_for_thousands_of_channels() -> None:
    b = erlang_b(4_000.0, 4_100)
    assert 0 < b < 0.01 and math.isfinite(b)
    assert channels_for(4_000.0, 0.01) < 4_100


def test_the_demo_trunks_sizing() -> None:
    assert channels_for(12.0, 0.01) == 20  # FRA-VOICE-1: 30 contracted, 20 suffice -> FEWER_CHANNELS
    assert erlang_b(9.0, 10) > 0.01 and channels_for(9.0, 0.01) == 17  # PAR-VOICE-1 -> MORE_CHANNELS
    assert channels_for(0.0) == 0


@pytest.mark.parametrize(("call", "message"), [
    (lambda: erlang_b(-1.0, 3), "traffic_erl must be a finite number ≥ 0"),
    (lambda: erlang_b(float("nan"), 3), "traffic_erl must be a finite number ≥ 0"),
    (lambda: erlang_b(1.0, -1), "channels must be a whole number ≥ 0"),
    (lambda: erlang_b(1.0, 2.5), "channels must be a whole number ≥ 0"),
    (lambda: channels_for(1.0, 0.0), "gos must be a probability"),
    (lambda: channels_for(1.0, 1.0), "gos must be a probability"),
    (lambda: offered_traffic(1.0, 5, 3), "need 0 ≤ blocked ≤ attempts"),
    (lambda: design_traffic([1.0], n=0), "n must be at least 1"),
    (lambda: busy_hour(np.zeros(1), np.ones(1), day_start_s=10, day_end_s=10), "is not after"),
], ids=["negative", "nan", "negative-channels", "fractional-channels", "gos-0", "gos-1", "blocked>attempts",
        "n-0", "empty-day"])
def test_bad_arguments_are_refused_naming_the_argument(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


DAY = 86_400.0


@pytest.mark.parametrize(("calls", "hour_start_s", "erlangs"), [
    ([], 0.0, 0.0),
    ([(3600, 7200)], 3600.0, 1.0),  # one call holding the whole 01:00 hour
    ([(3600, 5400), (3600, 5400)], 3600.0, 1.0),  # two half-hour calls
    ([(5400, 9000)], 3600.0, 0.5),  # half in 01:00, half in 02:00: the earlier of equals wins
    ([(0, 600)] * 6 + [(36000, 39600)] * 2, 36000.0, 2.0),  # 10:00 with 2 E beats midnight with 1 E
    ([(-1800, 1800)], 0.0, 0.5),  # a call from the day before counts from midnight
    ([(DAY - 600, DAY + 3000)], DAY - 3600, 600 / 3600),  # and one into the next day up to midnight
    ([(100, 100)], 0.0, 0.0),  # a zero-length attempt holds nothing
], ids=["no-calls", "whole-hour", "two-halves", "straddling", "busiest", "from-yesterday", "into-tomorrow",
        "zero-length"])
def test_busy_hour(calls: list[tuple[float, float]], hour_start_s: float, erlangs: float) -> None:
    start = np.array([c[0] for c in calls], dtype=float)
    end = np.array([c[1] for c in calls], dtype=float)
    got = busy_hour(start, end, day_start_s=0.0, day_end_s=DAY)
    assert got == (hour_start_s, pytest.approx(erlangs))


def test_busy_hour_of_a_short_dst_day_counts_its_23_hours() -> None:
    # 29 March 2026 in Berlin: 23 hours. Clock hours are counted from the local midnight.
    midnight = 1774738800.0  # 2026-03-29 00:00 CET (23:00 UTC on the 28th)
    start = np.array([midnight + 22 * 3600])
    got = busy_hour(start, start + 3600, day_start_s=midnight, day_end_s=midnight + 23 * 3600)
    assert got == (midnight + 22 * 3600, pytest.approx(1.0))


def test_busy_hour_agrees_with_a_sum_over_calls() -> None:
    rng = np.random.default_rng(7)
    start = rng.uniform(0, DAY, 5_000)
    end = start + rng.exponential(180, 5_000)
    hour_s, erlangs = busy_hour(start, end, day_start_s=0.0, day_end_s=DAY)
    h0, h1 = hour_s, hour_s + 3600
    expected = np.clip(np.minimum(end, h1) - np.maximum(start, h0), 0, None).sum() / 3600
    assert erlangs == pytest.approx(expected)
    for other in range(24):  # and no other hour is busier
        o0, o1 = other * 3600.0, other * 3600.0 + 3600
        assert np.clip(np.minimum(end, o1) - np.maximum(start, o0), 0, None).sum() / 3600 <= erlangs + 1e-9


@pytest.mark.parametrize(("carried", "blocked", "attempts", "offered"), [
    (8.0, 0, 100, 8.0),
    (8.0, 20, 100, 10.0),  # a fifth of the calls lost: carried / 0.8
    (5.0, 0, 0, 5.0),
    (1.0, 10, 10, 100.0),  # every call lost: capped at 99 % blocking
])
def test_offered_traffic(carried: float, blocked: int, attempts: int, offered: float) -> None:
    assert offered_traffic(carried, blocked, attempts) == pytest.approx(offered)


@pytest.mark.parametrize(("days", "n", "design"), [
    ([], 10, 0.0),
    ([3.0, 1.0, 2.0], 10, 2.0),  # fewer days than n: all of them
    ([float(d) for d in range(1, 31)], 10, 25.5),  # the ten highest of 30 days: 21..30
    ([5.0, 1.0, 9.0, 7.0], 2, 8.0),
    ([4.0] * 20 + [40.0], 10, 7.6),  # one freak day weighs a tenth
])
def test_design_traffic_is_the_mean_of_the_n_highest_days(days: list[float], n: int, design: float) -> None:
    assert design_traffic(days, n) == pytest.approx(design)
