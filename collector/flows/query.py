"""Reading flow summaries back: the top talkers of a line over a window (``linewatch flows top``) and the InfluxQL
the line-detail dashboard uses (docs/flows.md)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from linewatch.influx import InfluxClient
from linewatch.influx.influxql import escape_string

# Grafana (InfluxQL data source), line-detail dashboard, "Top talkers" table. Returns the ranked rows of every
# minute in the range; the panel's "Group by" transformation sums bytes per (direction, src, dst, proto, dst_port)
# and sorts by bytes (see docs/flows.md). $line and $timeFilter are Grafana variables.
TOP_TALKERS_INFLUXQL = (
    'SELECT "src", "dst", "proto", "dst_port", "bytes", "packets" FROM "flow_top" '
    "WHERE \"line\" = '$line' AND \"rank\" != 'other' AND $timeFilter GROUP BY \"direction\""
)
# The remainder (everything outside the per-minute top N) over the range, per direction.
OTHER_INFLUXQL = (
    'SELECT sum("bytes") AS "bytes", sum("packets") AS "packets" FROM "flow_top" '
    "WHERE \"line\" = '$line' AND \"rank\" = 'other' AND $timeFilter GROUP BY \"direction\""
)
# Application mix over the range (bar gauge / pie): bytes per app and direction.
APP_MIX_INFLUXQL = (
    'SELECT sum("bytes") AS "bytes" FROM "flow_proto" '
    "WHERE \"line\" = '$line' AND $timeFilter GROUP BY \"direction\", \"app\""
)


def render(query: str, *, line: str, start_s: int, end_s: int) -> str:
    """Substitute the Grafana variables the way Grafana does (for tests and the CLI)."""
    time_filter = f"time >= {start_s}s AND time < {end_s}s"
    return query.replace("$line", escape_string(line)).replace("$timeFilter", time_filter)


@dataclass(frozen=True, slots=True)
class Talker:
    direction: str
    src: str
    dst: str
    proto: int
    dst_port: int
    bytes: int
    packets: int


@dataclass(slots=True)
class TopTalkers:
    line: str
    start_s: int
    end_s: int
    talkers: list[Talker]  # sorted by bytes, descending
    other_bytes: dict[str, int]  # direction -> bytes outside the per-bucket top N
    total_bytes: dict[str, int]  # direction -> all bytes


def top_talkers(client: InfluxClient, *, line: str, start_s: int, end_s: int, limit: int = 20,
                direction: str | None = None) -> TopTalkers:
    """Sum the per-bucket top conversations over ``[start_s, end_s)`` and rank them by bytes."""
    sums: dict[tuple[str, str, str, int, int], list[int]] = {}
    for series in client.query(render(TOP_TALKERS_INFLUXQL, line=line, start_s=start_s, end_s=end_s)):
        d = series["tags"].get("direction", "")
        if direction and d != direction:
            continue
        cols = series["columns"]
        ix = {c: i for i, c in enumerate(cols)}
        for row in series["values"]:
            key = (d, row[ix["src"]] or "", row[ix["dst"]] or "", int(row[ix["proto"]] or 0),
                   int(row[ix["dst_port"]] or 0))
            acc = sums.setdefault(key, [0, 0])
            acc[0] += int(row[ix["bytes"]] or 0)
            acc[1] += int(row[ix["packets"]] or 0)
    other: dict[str, int] = {}
    for series in client.query(render(OTHER_INFLUXQL, line=line, start_s=start_s, end_s=end_s)):
        d = series["tags"].get("direction", "")
        if direction and d != direction:
            continue
        other[d] = int(series["values"][0][series["columns"].index("bytes")] or 0) if series["values"] else 0
    total = dict(other)
    for key, (b, _) in sums.items():
        total[key[0]] = total.get(key[0], 0) + b
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    talkers = [Talker(k[0], k[1], k[2], k[3], k[4], v[0], v[1]) for k, v in ranked]
    return TopTalkers(line, start_s, end_s, talkers, other, total)


_RELATIVE = re.compile(r"^-?(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, *, now_s: float) -> int:
    """``now``, ``-15m``/``2h`` (before now), epoch seconds, or ISO 8601 (naive = UTC) -> epoch seconds."""
    text = text.strip()
    if text == "now":
        return int(now_s)
    m = _RELATIVE.match(text)
    if m:
        return int(now_s - float(m.group(1)) * _UNIT_S[m.group(2)])
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
        return int(float(text))
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"cannot read time {text!r}: use now, -15m, epoch seconds or ISO 8601") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())


def format_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def format_table(top: TopTalkers) -> str:
    """A fixed-width table for the terminal."""
    span = max(top.end_s - top.start_s, 1)
    header = f"{'dir':<4} {'source':<39} {'destination':<39} {'proto':>5} {'port':>5} {'bytes':>10} {'avg':>12} {'share':>6}"
    title = (f"top talkers of {top.line} from "
             f"{dt.datetime.fromtimestamp(top.start_s, dt.UTC):%Y-%m-%d %H:%M:%S} to "
             f"{dt.datetime.fromtimestamp(top.end_s, dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
    lines = [title, header, "-" * len(header)]
    for t in top.talkers:
        total = top.total_bytes.get(t.direction, 0) or 1
        lines.append(f"{t.direction:<4} {t.src:<39} {t.dst:<39} {t.proto:>5} {t.dst_port:>5} "
                     f"{format_bytes(t.bytes):>10} {t.bytes * 8 / span / 1e6:>8.3f} Mb/s {t.bytes / total:>6.1%}")
    for d in sorted(top.total_bytes):
        lines.append(f"{d:<4} total {format_bytes(top.total_bytes[d])}, outside the per-minute top N "
                     f"{format_bytes(top.other_bytes.get(d, 0))}")
    if not top.talkers and not top.total_bytes:
        lines.append("(no flow summaries for this line in that window)")
    return "\n".join(lines)
