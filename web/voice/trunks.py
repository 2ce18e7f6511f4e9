"""The voice lines' figures read from InfluxDB when a page is opened (docs/schema.md, the voice measurements the
voice collector writes): busy channels now, today's calls, blocked calls, minutes and cost, yesterday's busy hour
with its Erlang B blocking at the contracted channels and the channels needed at the target grade of service, and
for one line its minutes by destination class and the month's cost.

InfluxDB down, slow or refusing: the figures come back with ``error`` set (the page says "no data"; the reason
is logged). One query per measurement for all lines, grouped by line; at most ``PAGE_TIMEOUT_S`` each.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from linewatch.errors import InfluxError
from linewatch.influx import InfluxClient
from linewatch.influx.influxql import exact_regex, string_literal

log = logging.getLogger(__name__)

PAGE_TIMEOUT_S = 3.0
LIVE_WINDOW_S = 5 * 60  # a live count older than this is not "now"
RECENT_WINDOW_S = 15 * 60  # without a live source: the newest minute with calls within this window
DAY_S = 86_400


@dataclass
class TrunkFigures:
    """One voice line's figures (None: no data)."""

    line: str
    channels: int | None = None
    busy_now: int | None = None
    busy_source: str = ""  # "live" (the PBX's count) or "cdr" (the newest minute of voice_trunk)
    calls_today: int | None = None
    answered_today: int | None = None
    blocked_today: int | None = None
    minutes_today: float | None = None
    cost_today: float | None = None
    currency: str = ""
    busy_hour_erlangs: float | None = None
    busy_hour_start_s: int | None = None
    offered_erlangs: float | None = None
    blocking_pct: float | None = None
    channels_needed: int | None = None

    @property
    def busy_pct(self) -> float | None:
        if self.busy_now is None or not self.channels:
            return None
        return 100.0 * self.busy_now / self.channels

    @property
    def spare_channels(self) -> int | None:
        """Contracted minus needed: positive could be saved, negative are missing."""
        if self.channels is None or self.channels_needed is None:
            return None
        return self.channels - self.channels_needed


@dataclass
class Figures:
    trunks: dict[str, TrunkFigures] = field(default_factory=dict)
    error: str | None = None


def _rows(series: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The first row of each series, by its ``line`` tag."""
    out = {}
    for s in series:
        if s.get("values"):
            out[s.get("tags", {}).get("line", "")] = dict(zip(s["columns"], s["values"][0], strict=False))
    return out


def _int(value: Any) -> int | None:
    return None if value is None else round(float(value))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _where(lines: Iterable[str], start_s: int, end_s: int) -> str:
    return f'"line" =~ {exact_regex(lines)} AND time >= {start_s}s AND time < {end_s}s'


def erlang_figures(offered_erl: float | None, channels: int | None, gos: float) -> tuple[float | None, int | None]:
    """(Erlang B blocking in %, channels needed at ``gos``) for ``offered_erl`` on ``channels`` — by the rating
    part's :mod:`linewatch.voice.erlang`; (None, None) without traffic or before that module exists."""
    if offered_erl is None:
        return None, None
    try:
        from linewatch.voice.erlang import channels_for, erlang_b
    except ImportError:
        return None, None
    blocking = 100.0 * erlang_b(offered_erl, channels) if channels else None
    return blocking, channels_for(offered_erl, gos)


def measure(client: InfluxClient, lines: Mapping[str, int | None], *, now_s: float, day_start_s: float,
            gos: float, currencies: Mapping[str, str] | None = None) -> dict[str, TrunkFigures]:
    """Every line's figures (``lines``: line → contracted channels). Raises InfluxError."""
    now = int(now_s)
    names = sorted(lines)
    out = {name: TrunkFigures(line=name, channels=lines[name], currency=(currencies or {}).get(name, ""))
           for name in names}
    if not names:
        return out
    live = _rows(client.query(f'SELECT LAST(active) AS active FROM "voice_live" WHERE '
                              f'{_where(names, now - LIVE_WINDOW_S, now + 1)} GROUP BY "line"'))
    recent = _rows(client.query(f'SELECT LAST(busy_max) AS busy FROM "voice_trunk" WHERE '
                                f'{_where(names, now - RECENT_WINDOW_S, now + 1)} GROUP BY "line"'))
    today = _rows(client.query(
        'SELECT SUM(attempts) AS calls, SUM(answered) AS answered, SUM(blocked) AS blocked, SUM(cost) AS cost, '
        'SUM(minutes_inbound) AS m_in, SUM(minutes_outbound) AS m_out, SUM(minutes_internal) AS m_int '
        f'FROM "voice_trunk" WHERE {_where(names, int(day_start_s), now + 1)} GROUP BY "line"'))
    utc_today = now - now % DAY_S
    capacity = _rows(client.query(
        'SELECT LAST(busy_hour_erlangs) AS bh, LAST(busy_hour_start_s) AS bh_start, LAST(offered_erlangs) AS '
        'offered, LAST(blocking_pct) AS blocking, LAST(channels_needed) AS needed FROM "voice_capacity" WHERE '
        f'{_where(names, utc_today - DAY_S, utc_today)} GROUP BY "line"'))
    for name, t in out.items():
        if name in live and live[name].get("active") is not None:
            t.busy_now, t.busy_source = _int(live[name]["active"]), "live"
        elif name in recent and recent[name].get("busy") is not None:
            t.busy_now, t.busy_source = _int(recent[name]["busy"]), "cdr"
        if name in today:
            row = today[name]
            t.calls_today, t.answered_today = _int(row.get("calls")), _int(row.get("answered"))
            t.blocked_today, t.cost_today = _int(row.get("blocked")), _float(row.get("cost"))
            minutes = [_float(row.get(k)) for k in ("m_in", "m_out", "m_int")]
            t.minutes_today = sum(m for m in minutes if m is not None)
        if name in capacity:
            row = capacity[name]
            t.busy_hour_erlangs, t.offered_erlangs = _float(row.get("bh")), _float(row.get("offered"))
            t.busy_hour_start_s = _int(row.get("bh_start"))
            blocking, needed = erlang_figures(t.offered_erlangs if t.offered_erlangs is not None
                                              else t.busy_hour_erlangs, t.channels, gos)
            t.blocking_pct = blocking if blocking is not None else _float(row.get("blocking"))
            t.channels_needed = needed if needed is not None else _int(row.get("needed"))
    return out


def _client_settings() -> Any:
    influx = settings.LINEWATCH.influx
    return influx.model_copy(update={"timeout_s": min(influx.timeout_s, PAGE_TIMEOUT_S)})


def trunk_figures(lines: Mapping[str, int | None], **kwargs: Any) -> Figures:
    """:func:`measure` with the page's short timeout; InfluxDB unreachable or refusing → ``error`` set."""
    try:
        with InfluxClient(_client_settings()) as client:
            return Figures(trunks=measure(client, lines, **kwargs))
    except InfluxError as exc:
        log.warning("voice trunks page: no figures from InfluxDB: %s", exc)
        return Figures(trunks={n: TrunkFigures(line=n, channels=c) for n, c in lines.items()},
                       error=type(exc).__name__)


@dataclass
class LineVoice:
    """The line page's voice section: minutes and calls by destination class today, the month's cost."""

    classes: list[dict[str, Any]] = field(default_factory=list)  # dest_class, calls, answered, minutes, cost
    month_cost: float | None = None
    error: str | None = None


def line_voice(line: str, *, day_start_s: float, month_start_s: float, now_s: float) -> LineVoice:
    now = int(now_s)
    try:
        with InfluxClient(_client_settings()) as client:
            where = f'"line" = {string_literal(line)} AND time >= {int(day_start_s)}s AND time < {now + 1}s'
            classes = []
            for s in client.query('SELECT SUM(calls) AS calls, SUM(answered) AS answered, SUM(minutes) AS minutes, '
                                  f'SUM(cost) AS cost FROM "voice_minutes" WHERE {where} GROUP BY "dest_class"'):
                if s.get("values"):
                    row = dict(zip(s["columns"], s["values"][0], strict=False))
                    classes.append({"dest_class": s.get("tags", {}).get("dest_class", ""),
                                    "calls": _int(row.get("calls")) or 0, "answered": _int(row.get("answered")) or 0,
                                    "minutes": _float(row.get("minutes")) or 0.0, "cost": _float(row.get("cost")) or 0.0})
            month = _rows(client.query(
                f'SELECT SUM(cost) AS cost FROM "voice_trunk" WHERE "line" = {string_literal(line)} AND '
                f'time >= {int(month_start_s)}s AND time < {now + 1}s GROUP BY "line"'))
    except InfluxError as exc:
        log.warning("line page %s: no voice figures from InfluxDB: %s", line, exc)
        return LineVoice(error=type(exc).__name__)
    return LineVoice(classes=sorted(classes, key=lambda c: -c["minutes"]),
                     month_cost=_float(month.get(line, {}).get("cost")))


def clock() -> float:
    """Now, in epoch seconds (tests replace it)."""
    return time.time()


def local_now() -> dt.datetime:
    """Now in the user's (the active) time zone."""
    from django.utils import timezone

    return timezone.localtime(dt.datetime.fromtimestamp(clock(), dt.UTC))


def local_starts(now: dt.datetime) -> tuple[float, float]:
    """(start of today, start of this month) in ``now``'s time zone, as epoch seconds."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp(), day.replace(day=1).timestamp()
