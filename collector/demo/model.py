"""The demo traffic model: deterministic per-line traffic as a function of wall time.

Every line gets a daily cycle (quiet nights, busy office hours), deterministic bursts, and a profile that makes the
demo tell a story: one line saturated above 80 % of its contracted capacity, one line down, one old router whose
32-bit counters wrap within the first minute, one nearly idle line (a savings candidate).

The same model drives the simulated routers (live counters) and the history backfill, so dashboards, alerts and
billing all see one consistent network.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from linewatch.choices import OperStatus


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


# The story of config/lines.yaml. Lines not listed get the default profile.
DEMO_PROFILES: dict[str, LineProfile] = {
    "FRA-INET-1": LineProfile(peak_util=0.55, night_util=0.10),
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
    "PAR-INET-1": LineProfile(peak_util=0.65, night_util=0.05, port_speed_bps=100_000_000),
}
DEFAULT_PROFILE = LineProfile()


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


def utilization(line_id: str, t_s: float, *, direction: str) -> float:
    """Utilization of the contracted capacity (fraction) for ``direction`` 'in' or 'out' at time ``t_s``."""
    p = profile_for(line_id)
    level = p.peak_util if p.flat else p.night_util + (p.peak_util - p.night_util) * daily_factor(t_s)
    minute = int(t_s // 60)
    level *= 1.0 + p.burst * _noise(line_id + direction, minute)
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
