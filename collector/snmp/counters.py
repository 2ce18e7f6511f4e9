"""Counter math: pure functions from two interface readings to rates. No I/O, no clocks.

Rules (the same ones every mature poller converges on, written down so tests can hold us to them):

* 64-bit HC counters are preferred; 32-bit counters wrap at 2**32 and a decrease is read as one wrap.
* A 64-bit counter that decreases did not wrap (that takes decades): it was reset — the delta is discarded.
* sysUpTime going backwards means the device rebooted: every delta of that poll is discarded. sysUpTime itself
  wraps after 497 days; a decrease consistent with that wrap is not a reboot.
* A rate above the port speed is impossible and means a discontinuity we could not see: discarded.
* The first reading of an interface gives no rate (unless persisted state provides the previous reading).
* Each reading is timed by the response that carried its counters (``time_s`` for in-octets, ``out_time_s`` when
  out-octets came in another response), never by the end of the device's poll.

Discarded deltas are never written as zero or as a spike; the caller counts them by reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

COUNTER32_MOD = 2**32
COUNTER64_MOD = 2**64
UPTIME_MOD_CS = 2**32  # sysUpTime is TimeTicks (1/100 s), 32 bits
# A measured rate may exceed the nominal port speed a little (clock jitter between poll time and counter update).
PORT_SPEED_TOLERANCE = 1.10


class DiscardReason(StrEnum):
    FIRST_SAMPLE = "first_sample"
    REBOOT = "reboot"
    COUNTER_RESET = "counter_reset"
    ABOVE_PORT_SPEED = "above_port_speed"
    INDEX_CHANGED = "index_changed"
    COUNTER_WIDTH_CHANGED = "counter_width_changed"
    BAD_INTERVAL = "bad_interval"
    STALE = "stale"  # the previous reading is too old to give a meaningful rate


@dataclass(frozen=True, slots=True)
class Reading:
    """One interface's counters as read in one poll."""

    time_s: float  # when the response carrying the in-octets counter arrived (epoch seconds)
    uptime_cs: int | None  # sysUpTime of the device in that same response, centiseconds
    if_index: int
    counter_bits: int  # 64 (ifHC*) or 32 (ifIn/OutOctets)
    in_octets: int | None
    out_octets: int | None
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    out_time_s: float | None = None  # when the out-octets counter arrived, if in another response than in-octets

    @property
    def out_at_s(self) -> float:
        return self.time_s if self.out_time_s is None else self.out_time_s


@dataclass(frozen=True, slots=True)
class Rates:
    """Per-second rates between two readings; all None when the delta was discarded."""

    interval_s: float
    in_bps: float | None = None
    out_bps: float | None = None
    in_errors_ps: float | None = None
    out_errors_ps: float | None = None
    in_discards_ps: float | None = None
    out_discards_ps: float | None = None
    discarded: DiscardReason | None = None


def counter_delta(prev: int, cur: int, *, bits: int) -> int | None:
    """Increase of a counter between two readings, or None when it was reset.

    >>> counter_delta(10, 25, bits=32)
    15
    >>> counter_delta(2**32 - 5, 10, bits=32)   # one wrap
    15
    >>> counter_delta(500, 10, bits=64) is None  # 64-bit counters do not wrap in practice: a reset
    True
    """
    if cur >= prev:
        return cur - prev
    if bits == 32:
        return cur + COUNTER32_MOD - prev
    return None


def rebooted(prev_uptime_cs: int | None, cur_uptime_cs: int | None, elapsed_s: float) -> bool:
    """True when sysUpTime went backwards for another reason than its own 32-bit wrap."""
    if prev_uptime_cs is None or cur_uptime_cs is None or cur_uptime_cs >= prev_uptime_cs:
        return False
    wrapped_cs = cur_uptime_cs + UPTIME_MOD_CS - prev_uptime_cs
    # Consistent with a wrap if the uptime advanced about as much as the wall clock did (generous slack).
    return not (0 < wrapped_cs <= (elapsed_s + 60) * 100)


def _per_second(prev: int | None, cur: int | None, bits: int, interval_s: float) -> tuple[float | None, bool]:
    """(rate, reset?) for one counter; missing values give (None, False)."""
    if prev is None or cur is None:
        return None, False
    delta = counter_delta(prev, cur, bits=bits)
    if delta is None:
        return None, True
    return delta / interval_s, False


def compute_rates(prev: Reading | None, cur: Reading, *, port_speed_bps: int | None,
                  max_interval_s: float | None = None) -> Rates:
    """Rates between ``prev`` and ``cur`` of the same interface, applying every discard rule.

    ``max_interval_s``: a previous reading older than this (e.g. persisted before a long collector outage) gives
    no rate, because an average over hours would hide what happened.
    """
    if prev is None:
        return Rates(interval_s=0.0, discarded=DiscardReason.FIRST_SAMPLE)
    interval_s = cur.time_s - prev.time_s
    out_interval_s = cur.out_at_s - prev.out_at_s
    if interval_s <= 0 or out_interval_s <= 0:
        return Rates(interval_s=interval_s, discarded=DiscardReason.BAD_INTERVAL)
    if max_interval_s is not None and interval_s > max_interval_s:
        return Rates(interval_s=interval_s, discarded=DiscardReason.STALE)
    if cur.if_index != prev.if_index:
        return Rates(interval_s=interval_s, discarded=DiscardReason.INDEX_CHANGED)
    if cur.counter_bits != prev.counter_bits:
        return Rates(interval_s=interval_s, discarded=DiscardReason.COUNTER_WIDTH_CHANGED)
    if rebooted(prev.uptime_cs, cur.uptime_cs, interval_s):
        return Rates(interval_s=interval_s, discarded=DiscardReason.REBOOT)

    bits = cur.counter_bits
    in_ps, in_reset = _per_second(prev.in_octets, cur.in_octets, bits, interval_s)
    out_ps, out_reset = _per_second(prev.out_octets, cur.out_octets, bits, out_interval_s)
    if in_reset or out_reset:
        return Rates(interval_s=interval_s, discarded=DiscardReason.COUNTER_RESET)
    in_bps = None if in_ps is None else in_ps * 8
    out_bps = None if out_ps is None else out_ps * 8
    if port_speed_bps:
        limit = port_speed_bps * PORT_SPEED_TOLERANCE
        if (in_bps is not None and in_bps > limit) or (out_bps is not None and out_bps > limit):
            return Rates(interval_s=interval_s, discarded=DiscardReason.ABOVE_PORT_SPEED)

    # Error and discard counters are Counter32 in IF-MIB, whatever the octet counters are.
    errs = []
    for p, c in (
        (prev.in_errors, cur.in_errors),
        (prev.out_errors, cur.out_errors),
        (prev.in_discards, cur.in_discards),
        (prev.out_discards, cur.out_discards),
    ):
        rate, _reset = _per_second(p, c, 32, interval_s)
        errs.append(rate)
    return Rates(
        interval_s=interval_s,
        in_bps=in_bps,
        out_bps=out_bps,
        in_errors_ps=errs[0],
        out_errors_ps=errs[1],
        in_discards_ps=errs[2],
        out_discards_ps=errs[3],
    )


def utilization_pct(bps: float | None, capacity_bps: int) -> float | None:
    """Utilization of the contracted capacity in percent (may exceed 100 when the port is faster)."""
    if bps is None or capacity_bps <= 0:
        return None
    return bps / capacity_bps * 100.0


def port_speed_bps(*, high_speed_mbps: int | None, speed_bps: int | None) -> int | None:
    """ifHighSpeed (Mbit/s) when set, else ifSpeed (which saturates at 2**32-1 for fast ports)."""
    if high_speed_mbps:
        return high_speed_mbps * 1_000_000
    if speed_bps and speed_bps != COUNTER32_MOD - 1:
        return speed_bps
    return speed_bps or None
