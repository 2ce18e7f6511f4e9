"""The device page's last poll: the newest ``collector_poll`` point of the device per collector (docs/schema.md).

One query, with the line page's short timeout (:data:`web.inventory.live.PAGE_TIMEOUT_S`). InfluxDB down, slow or
refusing: :func:`last_polls` returns ``LastPolls(error=...)`` and the page says "no data"; the reason is logged
(never a credential: the client's messages hold the URL only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from linewatch.errors import InfluxError
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.influx.influxql import string_literal
from web.inventory.live import PAGE_TIMEOUT_S

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Poll:
    collector: str
    time_s: int
    ok: bool
    duration_s: float | None
    varbinds: int | None
    lines: int | None
    error: str


@dataclass(frozen=True)
class LastPolls:
    polls: list[Poll] = field(default_factory=list)
    error: str | None = None


def poll_statement(device: str) -> str:
    return (f'SELECT * FROM "collector_poll" WHERE "device" = {string_literal(device)} GROUP BY "collector" '
            "ORDER BY time DESC LIMIT 1")


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def measure(client: InfluxClient, device: str) -> LastPolls:
    """The newest poll of ``device`` by each collector, newest first (raises InfluxError)."""
    polls = []
    for s in client.query(poll_statement(device)):
        if not s["values"]:
            continue
        row = dict(zip(s["columns"], s["values"][0], strict=False))
        duration = row.get("duration_s")
        polls.append(Poll(collector=s["tags"].get("collector", ""), time_s=int(row["time"]), ok=bool(row.get("ok")),
                          duration_s=None if duration is None else float(duration),
                          varbinds=_int(row.get("varbinds")), lines=_int(row.get("lines")),
                          error=str(row.get("error") or "")))
    return LastPolls(polls=sorted(polls, key=lambda p: (-p.time_s, p.collector)))


def last_polls(settings: InfluxSettings, device: str) -> LastPolls:
    """:func:`measure` with the page's short timeout; InfluxDB unreachable or refusing → ``error`` set."""
    page_settings = settings.model_copy(update={"timeout_s": min(settings.timeout_s, PAGE_TIMEOUT_S)})
    try:
        with InfluxClient(page_settings) as client:
            return measure(client, device)
    except InfluxError as exc:
        log.warning("device page %s: no poll figures from InfluxDB: %s", device, exc)
        return LastPolls(error=type(exc).__name__)
