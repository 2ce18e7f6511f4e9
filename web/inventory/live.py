"""The line page's live figures from InfluxDB (docs/schema.md): now, this month, past periods, open alerts.

* **now**: the newest ``in_bps``/``out_bps`` of each of the line's member series (device, interface) within
  :data:`CURRENT_WINDOW_S`, summed (a line carried by several interfaces is the sum of its members), and the
  utilization of the line's contracted capacity;
* **this month** and the :data:`PAST_PERIODS` billing periods before it: the 95th percentile of the contract's
  direction — :func:`billing_etl.usage.measure_p95`, the very function billing bills with (per 5-minute bucket the
  sum of the members' means, then "drop the top 5 %") — the volume in and out, and the billed amount of
  ``line_cost`` when the billing ETL has run for that period;
* **open alerts**: the newest ``alert_events`` point per rule of the line (and of its devices, for device-level
  alerts) whose state is ``pending`` or ``firing``.

InfluxDB down, slow or refusing: :func:`line_figures` returns ``LiveFigures(error=...)`` and the page says "no
data"; the reason is logged (never a credential: the client's messages hold the URL only).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from billing_etl.model import Period
from billing_etl.usage import MEASUREMENT, MEMBER_TAGS, measure_p95
from linewatch.choices import UsageDirection
from linewatch.errors import InfluxError
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.influx.influxql import exact_regex, string_literal
from linewatch.settings import GrafanaSettings

log = logging.getLogger(__name__)

CURRENT_WINDOW_S = 15 * 60  # three polls of the default cycle: older figures are "no data", not "now"
PAST_PERIODS = 3
PAGE_TIMEOUT_S = 3.0  # a page waits at most this long per query for InfluxDB
OPEN_STATES = ("pending", "firing")


@dataclass(frozen=True)
class Current:
    time_s: int
    in_bps: float | None
    out_bps: float | None
    in_util_pct: float | None
    out_util_pct: float | None


@dataclass(frozen=True)
class PeriodUsage:
    period: str
    p95_bps: float | None
    samples_5m: int
    in_bytes: float
    out_bytes: float
    billed_amount: float | None = None
    currency: str | None = None


@dataclass(frozen=True)
class OpenAlert:
    rule: str
    subject: str
    severity: str
    state: str
    summary: str
    since_s: int | None
    value: float | None


@dataclass(frozen=True)
class LiveFigures:
    current: Current | None = None
    month: PeriodUsage | None = None
    past: list[PeriodUsage] = field(default_factory=list)
    alerts: list[OpenAlert] = field(default_factory=list)
    error: str | None = None

    @property
    def has_data(self) -> bool:
        return self.current is not None or bool(self.month and self.month.samples_5m) or bool(self.past)


def _window(start_s: int, end_s: int) -> str:
    return f"time >= {start_s}s AND time < {end_s}s"


def volume_statement(line: str, period: Period, end_s: int) -> str:
    """The volume of ``line`` (every member's samples) within ``[period start, end_s)``."""
    where = f'{_window(period.start_s, end_s)} AND "line" = {string_literal(line)}'
    return (f"SELECT SUM(x) AS in_bits, SUM(y) AS out_bits FROM (SELECT in_bps * interval_s AS x, "
            f'out_bps * interval_s AS y FROM "{MEASUREMENT}" WHERE {where})')


def alerts_statement(subjects: Iterable[str]) -> str:
    return f'SELECT * FROM "alert_events" WHERE "line" =~ {exact_regex(subjects)} GROUP BY "rule", "line" ORDER BY time DESC LIMIT 1'


def cost_statement(line: str, periods: Iterable[Period]) -> str:
    wanted = exact_regex(str(p) for p in periods)
    return (f'SELECT LAST(billed_amount) AS billed FROM "line_cost" WHERE "line" = {string_literal(line)} '
            f'AND "period" =~ {wanted} GROUP BY "period", "currency"')


def _first_row(series: list[dict[str, object]]) -> dict[str, object]:
    for s in series:
        if s["values"]:
            return dict(zip(s["columns"], s["values"][0], strict=False))  # type: ignore[arg-type]
    return {}


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _util(bps: float | None, capacity_bps: int | None) -> float | None:
    return None if bps is None or not capacity_bps else 100.0 * bps / capacity_bps


def _current(client: InfluxClient, line: str, capacity_bps: int | None, now_s: int) -> Current | None:
    q = (f'SELECT LAST(in_bps) AS i FROM "{MEASUREMENT}" WHERE "line" = {string_literal(line)} AND '
         f"{_window(now_s - CURRENT_WINDOW_S, now_s + 1)}")
    newest = _first_row(client.query(q))
    if not newest:
        return None
    per_series = (f"SELECT LAST(in_bps) AS i, LAST(out_bps) AS o FROM \"{MEASUREMENT}\" WHERE \"line\" = "
                  f"{string_literal(line)} AND {_window(now_s - CURRENT_WINDOW_S, now_s + 1)} GROUP BY {MEMBER_TAGS}")
    in_bps = out_bps = None
    for s in client.query(per_series):
        row = dict(zip(s["columns"], s["values"][0], strict=False)) if s["values"] else {}
        if row.get("i") is not None:
            in_bps = (in_bps or 0.0) + float(row["i"])
        if row.get("o") is not None:
            out_bps = (out_bps or 0.0) + float(row["o"])
    return Current(int(newest["time"]), in_bps, out_bps, _util(in_bps, capacity_bps), _util(out_bps, capacity_bps))


def _period(client: InfluxClient, line: str, period: Period, direction: UsageDirection, end_s: int) -> PeriodUsage:
    # No data after ``end_s`` (now) exists yet, so the period's figure is the one so far.
    samples, p95 = measure_p95(client, period, {line: direction}).get(line, (0, None))
    volume = _first_row(client.query(volume_statement(line, period, end_s)))
    return PeriodUsage(
        period=str(period), p95_bps=p95, samples_5m=samples,
        in_bytes=(_float(volume.get("in_bits")) or 0.0) / 8, out_bytes=(_float(volume.get("out_bits")) or 0.0) / 8,
    )


def _alerts(client: InfluxClient, subjects: list[str]) -> list[OpenAlert]:
    out = []
    for s in client.query(alerts_statement(subjects)):
        if not s["values"]:
            continue
        row = dict(zip(s["columns"], s["values"][0], strict=False))
        if row.get("state") not in OPEN_STATES:
            continue
        since = row.get("since_s")
        out.append(OpenAlert(rule=s["tags"].get("rule", ""), subject=s["tags"].get("line", ""),
                             severity=str(row.get("severity") or ""), state=str(row["state"]),
                             summary=str(row.get("summary") or ""), since_s=int(since) if since is not None else None,
                             value=_float(row.get("value"))))
    return sorted(out, key=lambda a: (a.state != "firing", a.rule, a.subject))


def measure(client: InfluxClient, *, line: str, devices: Iterable[str] = (), capacity_bps: int | None,
            direction: UsageDirection = UsageDirection.MAX, now_s: float) -> LiveFigures:
    """Every figure of the line page (raises InfluxError; :func:`line_figures` turns that into a note)."""
    now = int(now_s)
    this = Period.containing(dt.datetime.fromtimestamp(now, dt.UTC).date())
    past = []
    period = this
    for _ in range(PAST_PERIODS):
        period = period.previous()
        past.append(period)
    usage = [_period(client, line, p, direction, p.end_s) for p in past]
    costs: dict[str, tuple[float, str]] = {}
    for s in client.query(cost_statement(line, past)):
        row = _first_row([s])
        if row.get("billed") is not None:
            costs[s["tags"].get("period", "")] = (float(row["billed"]), s["tags"].get("currency", ""))  # type: ignore[arg-type]
    usage = [dataclasses.replace(u, billed_amount=costs[u.period][0], currency=costs[u.period][1] or None)
             if u.period in costs else u for u in usage]
    return LiveFigures(
        current=_current(client, line, capacity_bps, now),
        month=_period(client, line, this, direction, min(this.end_s, now + 1)),
        past=[u for u in usage if u.samples_5m or u.billed_amount is not None],
        alerts=_alerts(client, [line, *devices]),
    )


def line_figures(settings: InfluxSettings, **kwargs: object) -> LiveFigures:
    """:func:`measure` with the page's short timeout; InfluxDB unreachable or refusing → ``error`` set."""
    page_settings = settings.model_copy(update={"timeout_s": min(settings.timeout_s, PAGE_TIMEOUT_S)})
    try:
        with InfluxClient(page_settings) as client:
            return measure(client, **kwargs)  # type: ignore[arg-type]
    except InfluxError as exc:
        log.warning("line page %s: no figures from InfluxDB: %s", kwargs.get("line"), exc)
        return LiveFigures(error=type(exc).__name__)


def clock() -> float:
    """Now, in epoch seconds (tests replace it)."""
    return time.time()


def grafana_url(grafana: GrafanaSettings, line: str) -> str:
    """The line's Grafana dashboard: ``grafana.base_url`` + ``/d/<uid>?var-line=<line>``."""
    return f"{grafana.base_url.rstrip('/')}/d/{grafana.line_dashboard_uid}?{urlencode({'var-line': line})}"


def for_line(line: Any) -> dict[str, Any]:
    """The line page's context for a ``web.inventory.models.Line``: figures, direction, Grafana link."""
    from django.conf import settings

    contract = getattr(line, "contract", None)  # None also when the line has none (RelatedObjectDoesNotExist)
    direction = UsageDirection(contract.direction) if contract is not None and contract.direction else (
        UsageDirection.MAX)
    now_s = clock()
    # The capacity in force now (a capacity change may have raised it since installation), as the collector uses.
    capacity_bps = line.capacity_at(dt.datetime.fromtimestamp(now_s, dt.UTC))
    figures = line_figures(settings.LINEWATCH.influx, line=line.name, capacity_bps=capacity_bps,
                           devices=sorted({m.device.name for m in line.members.all()}),
                           direction=direction, now_s=now_s)
    return {"figures": figures, "direction": direction, "grafana_url": grafana_url(settings.LINEWATCH.grafana,
                                                                                   line.name)}
