"""Reliability figures from outage intervals: incidents, downtime, MTTR, MTBF and availability per line, per
carrier and per month (docs/faults.md, "Figures"). Pure: no database, no clock.

Definitions, for one line over an observed period ``[start_s, end_s)`` (a calendar month, or its elapsed part):

* the line's outages (tickets with ``outage=True``: ``opened_at`` to ``resolved_at``; unresolved ones last to the
  period's end) are merged where they overlap or touch, then clipped to the period: an outage crossing the month
  boundary is split, each month counting its own part;
* ``incidents``: the merged, clipped outages in the period (a split outage counts once in each month);
* ``downtime_s``: their total length; ``uptime_s = period_s - downtime_s``;
* ``mttr_s`` (mean time to restore) ``= downtime_s / incidents``; ``mtbf_s`` (mean time between failures, the
  operating time per failure) ``= uptime_s / incidents``: both ``None`` without incidents;
* ``availability_pct = 100 × uptime_s / period_s``.

A carrier's figures add its lines': ``period_s`` is the sum of the lines' observed seconds (line-seconds), so a
carrier with ten lines and one line down for an hour is 99.986 % available over a 30-day month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["Figures", "Outage", "by_carrier", "by_line", "combine", "line_figures", "merge", "month_bounds",
           "month_of"]


@dataclass(frozen=True, slots=True)
class Outage:
    """One outage of ``line``: ``start_s`` to ``end_s`` (epoch seconds; ``None``: still down)."""

    line: str
    start_s: float
    end_s: float | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one line or one carrier over an observed period of ``period_s`` (line-)seconds."""

    incidents: int
    downtime_s: float
    period_s: float

    @property
    def uptime_s(self) -> float:
        return self.period_s - self.downtime_s

    @property
    def mttr_s(self) -> float | None:
        return self.downtime_s / self.incidents if self.incidents else None

    @property
    def mtbf_s(self) -> float | None:
        return self.uptime_s / self.incidents if self.incidents else None

    @property
    def availability_pct(self) -> float | None:
        return 100.0 * self.uptime_s / self.period_s if self.period_s > 0 else None


def merge(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """``intervals`` (start, end) sorted, the overlapping and touching ones merged; empty ones dropped."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def line_figures(outages: Iterable[Outage], *, start_s: float, end_s: float) -> Figures:
    """One line's figures over ``[start_s, end_s)`` from its ``outages`` (any of them, in or out of the period)."""
    if end_s < start_s:
        raise ValueError(f"end_s: {end_s} is before start_s {start_s}")
    clipped = [(max(o.start_s, start_s), min(end_s if o.end_s is None else o.end_s, end_s)) for o in outages]
    pieces = merge(clipped)
    return Figures(incidents=len(pieces), downtime_s=sum(e - s for s, e in pieces), period_s=end_s - start_s)


def by_line(outages: Iterable[Outage], lines: Iterable[str], *, start_s: float,
            end_s: float) -> dict[str, Figures]:
    """The figures of each of ``lines`` (every one, with or without outages); outages of other lines are ignored."""
    grouped: dict[str, list[Outage]] = {line: [] for line in lines}
    for outage in outages:
        if outage.line in grouped:
            grouped[outage.line].append(outage)
    return {line: line_figures(own, start_s=start_s, end_s=end_s) for line, own in grouped.items()}


def combine(figures: Iterable[Figures]) -> Figures:
    """The sum of ``figures`` (a carrier's of its lines'): incidents, downtime and observed line-seconds add."""
    items = list(figures)
    return Figures(incidents=sum(f.incidents for f in items), downtime_s=sum(f.downtime_s for f in items),
                   period_s=sum(f.period_s for f in items))


def by_carrier(line_figures_: Mapping[str, Figures], carrier_of: Mapping[str, str]) -> dict[str, Figures]:
    """Each carrier's figures: :func:`combine` of its lines' (``carrier_of``: line → carrier)."""
    grouped: dict[str, list[Figures]] = {}
    for line, figures in line_figures_.items():
        grouped.setdefault(carrier_of[line], []).append(figures)
    return {carrier: combine(items) for carrier, items in sorted(grouped.items())}


def month_bounds(year: int, month: int, tz: dt.tzinfo | str) -> tuple[float, float]:
    """The calendar month ``year-month`` in the time zone ``tz`` as epoch seconds ``[start_s, end_s)``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if not 1 <= month <= 12:
        raise ValueError(f"month: {month} is not 1 to 12")
    first = dt.datetime(year, month, 1, tzinfo=zone)
    following = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return first.timestamp(), following.timestamp()


def month_of(moment_s: float, tz: dt.tzinfo | str) -> tuple[int, int]:
    """(year, month) of the epoch second ``moment_s`` in the time zone ``tz``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = dt.datetime.fromtimestamp(moment_s, tz=zone)
    return local.year, local.month
