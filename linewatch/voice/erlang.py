"""Traffic engineering for voice trunks: Erlang B, busy hour, offered and design traffic (docs/rating.md).

* :func:`erlang_b` — the probability that a call offered to ``channels`` circuits carrying ``traffic_erl`` Erlangs
  is blocked (lost calls cleared), by the stable recurrence B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)) — no
  factorials, no overflow at thousands of channels.
* :func:`channels_for` — the fewest channels that keep the blocking at or under a grade of service (1 %).
* :func:`busy_hour` — the busiest clock hour of a day and its carried traffic (channel-seconds / 3600).
* :func:`offered_traffic` — carried traffic scaled up by the observed blocking: blocked calls were offered too.
* :func:`design_traffic` — the traffic to size a trunk for: the mean of the ``n`` highest daily busy hours (the
  "ten-high-day busy hour" of North American practice; ITU-T E.500 averages the 30 highest days of a year for its
  normal load): robust against one freak day, yet not diluted by quiet weekends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["busy_hour", "channels_for", "design_traffic", "erlang_b", "offered_traffic"]

MAX_CHANNELS = 100_000
MAX_BLOCKING_SEEN = 0.99  # offered_traffic: a trunk that blocked (nearly) every call is estimated at 100 x carried


def _traffic(traffic_erl: float) -> float:
    a = float(traffic_erl)
    if not math.isfinite(a) or a < 0:
        raise ValueError(f"traffic_erl must be a finite number ≥ 0, got {traffic_erl!r}")
    return a


def erlang_b(traffic_erl: float, channels: int) -> float:
    """Blocking probability of ``traffic_erl`` Erlangs offered to ``channels`` circuits (0 channels block all)."""
    a = _traffic(traffic_erl)
    if isinstance(channels, bool) or int(channels) != channels or channels < 0:
        raise ValueError(f"channels must be a whole number ≥ 0, got {channels!r}")
    b = 1.0
    for n in range(1, int(channels) + 1):
        b = a * b / (n + a * b)
    return b


def channels_for(traffic_erl: float, gos: float = 0.01) -> int:
    """The fewest channels whose Erlang B blocking for ``traffic_erl`` is at most ``gos`` (0 < gos < 1)."""
    a = _traffic(traffic_erl)
    if not 0 < gos < 1:
        raise ValueError(f"gos must be a probability between 0 and 1 (0.01 for 1 %), got {gos!r}")
    if a == 0:
        return 0
    b, n = 1.0, 0
    while b > gos:
        n += 1
        if n > MAX_CHANNELS:
            raise ValueError(f"{a:g} Erlangs need more than {MAX_CHANNELS} channels at {gos:.2%} blocking")
        b = a * b / (n + a * b)
    return n


def busy_hour(start_s: np.ndarray, end_s: np.ndarray, *, day_start_s: float,
              day_end_s: float) -> tuple[float, float]:
    """(start of the busiest clock hour, its carried traffic in Erlangs) of the day [day_start_s, day_end_s).

    Clock hours are counted from ``day_start_s`` (a local midnight); each call holds a channel from its start to
    its end, and only the part inside each hour counts. The earliest of equally busy hours wins; a day without
    calls gives (day_start_s, 0.0). A DST day simply has 23 or 25 hours."""
    if day_end_s <= day_start_s:
        raise ValueError(f"day_end_s {day_end_s} is not after day_start_s {day_start_s}")
    start = np.asarray(start_s, dtype=np.float64)
    end = np.asarray(end_s, dtype=np.float64)
    if start.shape != end.shape:
        raise ValueError("start_s and end_s differ in length")
    keep = np.isfinite(start) & np.isfinite(end) & (end > start)
    start = np.clip(start[keep], day_start_s, day_end_s)
    end = np.clip(end[keep], day_start_s, day_end_s)
    edges = np.append(np.arange(day_start_s, day_end_s, 3600.0), day_end_s)
    # Channel-seconds before t: sum over starts < t of (t - s) minus sum over ends < t of (t - e).
    starts, ends = np.sort(start), np.sort(end)
    cum_s, cum_e = np.concatenate(([0.0], np.cumsum(starts))), np.concatenate(([0.0], np.cumsum(ends)))
    k_s, k_e = np.searchsorted(starts, edges, "left"), np.searchsorted(ends, edges, "left")
    busy = (k_s * edges - cum_s[k_s]) - (k_e * edges - cum_e[k_e])
    per_hour = np.diff(busy) / 3600.0
    if not len(per_hour) or per_hour.max() <= 0:
        return float(day_start_s), 0.0
    best = int(np.argmax(per_hour))
    return float(edges[best]), float(per_hour[best])


def offered_traffic(carried_erl: float, blocked: int, attempts: int) -> float:
    """Offered traffic from the carried traffic and the share of attempts blocked: A = carried / (1 - blocked /
    attempts). With no attempts or none blocked it is the carried traffic; the observed blocking is capped at
    99 % so a trunk that lost every call still gives a finite (large) estimate."""
    carried = _traffic(carried_erl)
    if blocked < 0 or attempts < 0 or blocked > attempts:
        raise ValueError(f"need 0 ≤ blocked ≤ attempts, got blocked={blocked}, attempts={attempts}")
    if attempts == 0 or blocked == 0:
        return carried
    return carried / (1.0 - min(blocked / attempts, MAX_BLOCKING_SEEN))


def design_traffic(daily_busy_hour_erl: Sequence[float], n: int = 10) -> float:
    """The mean of the ``n`` highest daily busy-hour traffics (all of them when there are fewer; 0 without any)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    values = sorted((_traffic(v) for v in daily_busy_hour_erl), reverse=True)[:n]
    return sum(values) / len(values) if values else 0.0
