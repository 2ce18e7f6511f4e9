"""The demo traffic model: deterministic per-line traffic as a function of wall time.

Every line gets a daily cycle (quiet nights, busy office hours), deterministic bursts, and a profile that makes the
demo tell a story: one line saturated above 80 % of its contracted capacity, one line down, one old router whose
32-bit counters wrap within the first minute, one nearly idle line (a savings candidate), one line growing week
after week so that its busy hour crosses 80 % within the coming month (the capacity outlook and the
forecast_crossing alert), and one traffic anomaly under way when the demo starts (the anomaly alert).

The growth and the anomaly are told relative to the story's anchor: :func:`start_story` sets it to the demo's
start, before the history is backfilled, so whenever ``make run`` starts the growing line is at the same point of
its story and the anomaly is happening now. Without it (the tests) the anchor is fixed (:data:`DEFAULT_ANCHOR_S`)
and there is no anomaly, so every figure is a pure function of time.

The same model drives the simulated routers (live counters) and the history backfill, so dashboards, alerts and
billing all see one consistent network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from linewatch.choices import AnomalyDirection, OperStatus

DAY_S = 86400


@dataclass(frozen=True)
class Growth:
    """A line whose busy hour rises steadily: ``busy_util_at_anchor`` (fraction of the commit) at the story's
    anchor, ``per_day`` more each day before and after it, never below ``floor`` nor above 1."""

    busy_util_at_anchor: float
    per_day: float
    floor: float = 0.10

    def peak_util(self, t_s: float, anchor_s: float) -> float:
        return min(1.0, max(self.floor, self.busy_util_at_anchor + self.per_day * (t_s - anchor_s) / DAY_S))


@dataclass(frozen=True)
class Anomaly:
    """Traffic departing from what the line usually carries: ``delta_util`` (fraction of the commit) added
    (a surge, never above ``ceiling_util``) or taken away (a drop, never below 0) from ``starts_before_s`` before
    the anchor for ``duration_s``."""

    direction: AnomalyDirection
    delta_util: float
    ceiling_util: float = 0.75  # below the 80 % warning even in a bursty minute: an anomaly, not a saturation
    starts_before_s: int = 30 * 60  # under way when the demo starts: held for the rule's 15 minutes already
    duration_s: int = 6 * 3600

    def window(self, anchor_s: float) -> tuple[float, float]:
        start = anchor_s - self.starts_before_s
        return start, start + self.duration_s


@dataclass(frozen=True)
class LineProfile:
    """How one line behaves. Utilizations are fractions of the contracted capacity."""

    peak_util: float = 0.45  # mean utilization (in) at the daily peak
    night_util: float = 0.08  # mean utilization (in) at night
    out_ratio: float = 0.6  # out = in × out_ratio
    burst: float = 0.15  # relative amplitude of minute-to-minute bursts
    port_speed_bps: int = 1_000_000_000
    counter_bits: int = 64
    flat: bool = False  # no daily cycle (a saturated trunk stays saturated)
    down_live: bool = False  # oper down (admin up) for the whole live demo
    outage_every_days: int = 0  # in history: one 3-hour outage every N days (0: never)
    error_rate_ps: float = 0.0
    counter_start: int = 0  # initial counter value (a 32-bit counter near 2**32 wraps quickly)
    weekend_factor: float = 1.0  # Saturday and Sunday (UTC) carry this share of a weekday's traffic
    growth: Growth | None = None  # peak and night scale with the busy hour's growth (peak_util unused then)
    anomaly: Anomaly | None = None  # only once start_story() has placed the story in time


# The story of config/lines.yaml. Lines not listed get the default profile.
DEMO_PROFILES: dict[str, LineProfile] = {
    # The anomaly: 22 points of the commit more than usual (at most 75 %), from half an hour before the demo starts,
    # for 6 hours: a surge the anomaly rule reports at any hour, below the 80 % utilization warning.
    "FRA-INET-1": LineProfile(peak_util=0.55, night_util=0.10,
                              anomaly=Anomaly(direction=AnomalyDirection.SURGE, delta_util=0.22)),
    "FRA-MPLS-1": LineProfile(peak_util=0.88, night_util=0.88, flat=True, burst=0.04, error_rate_ps=0.5),
    "FRA-VOICE-1": LineProfile(peak_util=0.30, night_util=0.02, out_ratio=1.0, port_speed_bps=100_000_000),
    # Near its 10 channels in the busy hour (calls blocked; docs/voice-demo.md): about 9 G.711 calls each way.
    "PAR-VOICE-1": LineProfile(peak_util=0.45, night_util=0.02, out_ratio=1.0, port_speed_bps=100_000_000),
    "AMS-INET-1": LineProfile(peak_util=0.40, night_util=0.06, port_speed_bps=10_000_000_000),
    "AMS-MPLS-1": LineProfile(peak_util=0.35, night_util=0.05, down_live=True, outage_every_days=9),
    "LON-INET-1": LineProfile(peak_util=0.50, night_util=0.12),
    "LON-LL-1": LineProfile(peak_util=0.60, night_util=0.20, port_speed_bps=100_000_000, counter_bits=32,
                            counter_start=2**32 - 4_000_000),
    "LON-MPLS-1": LineProfile(peak_util=0.012, night_util=0.004, burst=0.3, port_speed_bps=100_000_000),
    # Growing (an active line: the demo's orders put AMS-INET-1 in acceptance, and only active lines are alerted
    # on): busy hour 68 % of its 100 Mbit/s commit when the demo starts, +0.6 points a day (18 a month), so the
    # forecast crosses 80 % about 20 days later; 47 % five weeks before (the backfill's start). Quiet weekends.
    "PAR-INET-1": LineProfile(peak_util=0.65, night_util=0.05, port_speed_bps=100_000_000, weekend_factor=0.55,
                              growth=Growth(busy_util_at_anchor=0.68, per_day=0.006)),
}
DEFAULT_PROFILE = LineProfile()

DEFAULT_ANCHOR_S = int(dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp())
"""The story's anchor when no demo has started one (tests): growth is measured from here, no anomaly."""


@dataclass
class _Story:
    anchor_s: float = DEFAULT_ANCHOR_S
    anomalies: bool = False


_STORY = _Story()


def start_story(now_s: float) -> None:
    """Place the demo's story at ``now_s`` (the demo's start): the growing line's busy hour is at its anchor value
    today, and the anomaly is under way. Called once by the demo before the backfill, so the history and the
    simulated routers' live counters tell the same story."""
    _STORY.anchor_s = float(now_s)
    _STORY.anomalies = True


def reset_story() -> None:
    """Back to the fixed anchor without anomalies (what tests expect)."""
    _STORY.anchor_s = DEFAULT_ANCHOR_S
    _STORY.anomalies = False


def story_anchor_s() -> float:
    return _STORY.anchor_s


def profile_for(line_id: str) -> LineProfile:
    return DEMO_PROFILES.get(line_id, DEFAULT_PROFILE)


def _noise(key: str, minute: int) -> float:
    """Deterministic noise in [-1, 1] for a line and a minute."""
    digest = hashlib.blake2b(f"{key}:{minute}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**31 - 1.0


def daily_factor(t_s: float) -> float:
    """0 at 03:00 UTC, 1 at 14:00 UTC, smooth in between (office hours in Europe)."""
    hour = (t_s % 86400) / 3600
    x = math.cos((hour - 14.0) / 24.0 * 2 * math.pi)  # 1 at 14:00, -1 at 02:00
    return max(0.0, (x + 0.7) / 1.7)


def in_outage(profile: LineProfile, line_id: str, t_s: float) -> bool:
    """History outages: 3 hours, once every ``outage_every_days`` days, starting at 02:00 UTC."""
    if profile.outage_every_days <= 0:
        return False
    day = int(t_s // 86400)
    hour = (t_s % 86400) / 3600
    return day % profile.outage_every_days == 4 and 2.0 <= hour < 5.0


def is_weekend(t_s: float) -> bool:
    """Saturday or Sunday in UTC (1970-01-01 was a Thursday)."""
    return (int(t_s // DAY_S) + 3) % 7 >= 5


def utilization(line_id: str, t_s: float, *, direction: str) -> float:
    """Utilization of the contracted capacity (fraction) for ``direction`` 'in' or 'out' at time ``t_s``."""
    p = profile_for(line_id)
    peak, night = p.peak_util, p.night_util
    if p.growth is not None:
        peak = p.growth.peak_util(t_s, _STORY.anchor_s)
        night = peak * p.night_util / p.peak_util
    level = peak if p.flat else night + (peak - night) * daily_factor(t_s)
    if p.weekend_factor != 1.0 and is_weekend(t_s):
        level *= p.weekend_factor
    minute = int(t_s // 60)
    level *= 1.0 + p.burst * _noise(line_id + direction, minute)
    if p.anomaly is not None and _STORY.anomalies:
        start, end = p.anomaly.window(_STORY.anchor_s)
        if start <= t_s < end:
            if p.anomaly.direction is AnomalyDirection.SURGE:
                level = max(level, min(level + p.anomaly.delta_util, p.anomaly.ceiling_util))
            else:
                level -= p.anomaly.delta_util
    if direction == "out":
        level *= p.out_ratio
    return max(0.0, level)


def rate_bps(line_id: str, capacity_bps: int, t_s: float, *, direction: str) -> float:
    p = profile_for(line_id)
    return min(utilization(line_id, t_s, direction=direction) * capacity_bps, p.port_speed_bps)


def oper_status(line_id: str, t_s: float, *, live: bool) -> OperStatus:
    p = profile_for(line_id)
    if (live and p.down_live) or (not live and in_outage(p, line_id, t_s)):
        return OperStatus.DOWN
    return OperStatus.UP
