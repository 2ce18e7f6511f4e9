"""Counter math: rates, wraps, resets, reboots and discards (collector/snmp/counters.py)."""

from __future__ import annotations

import pytest

from collector.snmp.counters import (
    COUNTER32_MOD,
    DiscardReason,
    Reading,
    compute_rates,
    counter_delta,
    port_speed_bps,
    rebooted,
    utilization_pct,
)


def reading(t: float, in_o: int | None, out_o: int | None, *, uptime: int | None = None, bits: int = 64,
            ix: int = 3, errs: tuple[int | None, ...] = (0, 0, 0, 0), out_t: float | None = None) -> Reading:
    return Reading(time_s=t, uptime_cs=uptime if uptime is not None else int(t * 100), if_index=ix,
                   counter_bits=bits, in_octets=in_o, out_octets=out_o, in_errors=errs[0], out_errors=errs[1],
                   in_discards=errs[2], out_discards=errs[3], out_time_s=out_t)


@pytest.mark.parametrize(("prev", "cur", "bits", "expected"), [
    (10, 25, 32, 15),
    (10, 10, 32, 0),
    (COUNTER32_MOD - 5, 10, 32, 15),
    (COUNTER32_MOD - 1, 0, 32, 1),
    (10, 25, 64, 15),
    (2**64 - 5, 10, 64, None),
    (500, 10, 64, None),
], ids=["32-increase", "32-flat", "32-wrap", "32-wrap-to-zero", "64-increase", "64-decrease-is-reset",
        "64-small-decrease-is-reset"])
def test_counter_delta(prev: int, cur: int, bits: int, expected: int | None) -> None:
    assert counter_delta(prev, cur, bits=bits) == expected


@pytest.mark.parametrize(("prev_cs", "cur_cs", "elapsed_s", "expected"), [
    (1000, 7000, 60, False),
    (900_000, 500, 60, True),
    (2**32 - 3000, 3000, 60, False),
    (2**32 - 3000, 3000_000, 60, True),
    (None, 100, 60, False),
], ids=["advancing", "went-back-reboot", "uptime-own-wrap", "wrap-too-far-is-reboot", "unknown-prev"])
def test_rebooted(prev_cs: int | None, cur_cs: int, elapsed_s: float, expected: bool) -> None:
    assert rebooted(prev_cs, cur_cs, elapsed_s) is expected


RATE_CASES = [
    # id, prev, cur, port speed, expected (in_bps, out_bps) or DiscardReason
    ("steady-64bit", reading(0, 0, 0), reading(60, 750_000_000, 375_000_000), 10**9, (100e6, 50e6)),
    ("32bit-wrap", reading(0, COUNTER32_MOD - 1000, 0, bits=32), reading(10, 1000, 10, bits=32), 10**9,
     (1600.0, 8.0)),
    ("first-sample", None, reading(60, 5, 5), 10**9, DiscardReason.FIRST_SAMPLE),
    ("reboot-uptime-back", reading(1000, 9_000_000, 9_000_000), reading(1060, 5_000, 5_000, uptime=3000), 10**9,
     DiscardReason.REBOOT),
    ("64bit-reset-without-reboot", reading(0, 9_000_000, 9_000_000), reading(60, 10, 10), 10**9,
     DiscardReason.COUNTER_RESET),
    ("above-port-speed", reading(0, 0, 0), reading(10, 10**10, 0), 10**9, DiscardReason.ABOVE_PORT_SPEED),
    ("32bit-decrease-spike-above-speed", reading(0, 4_000_000_000, 0, bits=32), reading(60, 5, 5, bits=32),
     10**6, DiscardReason.ABOVE_PORT_SPEED),
    ("index-moved", reading(0, 0, 0, ix=3), reading(60, 100, 100, ix=7), 10**9, DiscardReason.INDEX_CHANGED),
    ("counter-width-changed", reading(0, 0, 0, bits=64), reading(60, 100, 100, bits=32), 10**9,
     DiscardReason.COUNTER_WIDTH_CHANGED),
    ("clock-went-back", reading(60, 0, 0), reading(30, 100, 100), 10**9, DiscardReason.BAD_INTERVAL),
    ("stale-previous", reading(0, 0, 0), reading(7200, 100, 100), 10**9, DiscardReason.STALE),
    ("no-port-speed-known", reading(0, 0, 0), reading(1, 10**12, 0), None, (8e12, 0.0)),
    # in and out octets carried by two responses (a GETBULK reply that ended between them): each its own interval
    ("out-octets-in-a-later-response", reading(0, 0, 0, out_t=2), reading(60, 750_000_000, 375_000_000, out_t=62.5),
     10**9, (100e6, 375_000_000 * 8 / 60.5)),
    ("out-octets-interval-not-positive", reading(0, 0, 0, out_t=70), reading(60, 10, 10), 10**9,
     DiscardReason.BAD_INTERVAL),
]


@pytest.mark.parametrize(("prev", "cur", "speed", "expected"), [c[1:] for c in RATE_CASES],
                         ids=[c[0] for c in RATE_CASES])
def test_compute_rates(prev: Reading | None, cur: Reading, speed: int | None, expected: object) -> None:
    rates = compute_rates(prev, cur, port_speed_bps=speed, max_interval_s=3600)
    if isinstance(expected, DiscardReason):
        assert rates.discarded is expected
        assert rates.in_bps is None and rates.out_bps is None, "a discarded delta must never produce a rate"
    else:
        assert rates.discarded is None
        assert (rates.in_bps, rates.out_bps) == pytest.approx(expected)


def test_error_counters_are_counter32_and_wrap_even_on_hc_interfaces() -> None:
    prev = reading(0, 0, 0, errs=(COUNTER32_MOD - 10, 0, 5, 0))
    cur = reading(10, 0, 0, errs=(10, 30, 5, 0))
    rates = compute_rates(prev, cur, port_speed_bps=10**9)
    assert (rates.in_errors_ps, rates.out_errors_ps, rates.in_discards_ps) == pytest.approx((2.0, 3.0, 0.0))


def test_rates_across_several_polls_follow_a_known_counter_sequence() -> None:
    """Five polls 60 s apart at 80 Mbit/s in, 8 Mbit/s out, through one 32-bit wrap: every rate exact."""
    in_per_poll, out_per_poll = 80_000_000 * 60 // 8, 8_000_000 * 60 // 8
    start = COUNTER32_MOD - 2 * in_per_poll + 123
    seq = [reading(60 * i, (start + i * in_per_poll) % COUNTER32_MOD, i * out_per_poll, bits=32) for i in range(5)]
    rates = [compute_rates(a, b, port_speed_bps=10**9) for a, b in zip(seq, seq[1:])]
    assert [r.discarded for r in rates] == [None] * 4
    assert [r.in_bps for r in rates] == pytest.approx([80e6] * 4)
    assert [r.out_bps for r in rates] == pytest.approx([8e6] * 4)


@pytest.mark.parametrize(("bps", "cap", "pct"), [(80e6, 100_000_000, 80.0), (None, 100, None), (5.0, 0, None),
                                                   (2e9, 10**9, 200.0)], ids=["80pct", "no-rate", "no-capacity",
                                                                             "above-commit"])
def test_utilization_pct(bps: float | None, cap: int, pct: float | None) -> None:
    assert utilization_pct(bps, cap) == (pytest.approx(pct) if pct is not None else None)


@pytest.mark.parametrize(("high", "speed", "expected"), [(1000, 4294967295, 10**9), (0, 100_000_000, 100_000_000),
                                                         (None, None, None), (None, 4294967295, 4294967295)],
                         ids=["high-speed-wins", "ifspeed-when-no-high", "unknown", "saturated-ifspeed"])
def test_port_speed(high: int | None, speed: int | None, expected: int | None) -> None:
    assert port_speed_bps(high_speed_mbps=high, speed_bps=speed) == expected
