"""Calls to measurements: per voice line per minute (``voice_trunk``), per line × direction × destination class per
minute (``voice_minutes``) and per line per day (``voice_capacity``); see docs/schema.md. Pure and column-wise.

Concurrency: a call holds a trunk channel from ``start_s`` to ``end_s`` — except internal calls (extension to
extension: no trunk channel) and blocked calls (refused because no channel was free: they never held one). The
count of calls in progress is a step function; per minute, ``busy_max`` is its highest value and ``busy_mean`` its
time-weighted mean (the carried Erlangs). Both come from sorted start and end times with ``searchsorted`` and
cumulative sums over every minute edge — no Python loop per call (one loop per line).

Counts, minutes and cost belong to the minute (and day) the call *started* in.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linewatch.choices import CallDirection, CallOutcome, DestinationClass
from linewatch.influx import Point
from linewatch.inventory import Line
from linewatch.voice import erlang

MINUTE_S = 60
DAY_S = 86400
HOUR_S = 3600
LINE_TAGS = ("line", "carrier", "site", "department", "line_type")
"""The tags of every voice point: the line's (``Line.tags()`` without the member tags)."""

TRUNK_MEASUREMENT = "voice_trunk"
MINUTES_MEASUREMENT = "voice_minutes"
CAPACITY_MEASUREMENT = "voice_capacity"
LIVE_MEASUREMENT = "voice_live"

TRUNK_COUNTS = ("attempts", "answered", "failed", "blocked", "premium", "high_risk", "international")
DIRECTION_MINUTES = {d.value: f"minutes_{d.value}" for d in CallDirection}
TRUNK_FIELDS = ("channels", "busy_max", "busy_mean", "channel_util_pct", *TRUNK_COUNTS[:4], "asr_pct", "acd_s",
                *DIRECTION_MINUTES.values(), "cost", *TRUNK_COUNTS[4:])
"""The ``voice_trunk`` fields in the order of docs/schema.md (also the minute table's columns after line/time_s)."""
AGGREGATED_COLUMNS = ("line", "start_s", "end_s", "billsec_s", "direction", "outcome", "dest_class", "high_risk",
                      "cost")
"""The call columns the tables read (what the pipeline loads from the store)."""
INT_FIELDS = frozenset({"channels", "busy_max", *TRUNK_COUNTS, "calls", "busy_hour_start_s", "channels_needed"})


def line_tags(line: Line) -> dict[str, str]:
    tags = line.tags()
    return {k: tags[k] for k in LINE_TAGS}


def minute_floor(t_s: float) -> int:
    return int(np.floor(t_s / MINUTE_S)) * MINUTE_S


def minute_ceil(t_s: float) -> int:
    return int(np.ceil(t_s / MINUTE_S)) * MINUTE_S


def day_floor(t_s: float) -> int:
    return int(np.floor(t_s / DAY_S)) * DAY_S


def _occupying(calls: pd.DataFrame) -> np.ndarray:
    """The calls that hold a trunk channel (not internal, not blocked, with both times and a line)."""
    return ((calls["direction"] != CallDirection.INTERNAL.value).fillna(True).to_numpy(dtype=bool)
            & (calls["outcome"] != CallOutcome.BLOCKED.value).fillna(True).to_numpy(dtype=bool)
            & ~np.isnan(calls["start_s"].to_numpy(dtype="float64", na_value=np.nan))
            & ~np.isnan(calls["end_s"].to_numpy(dtype="float64", na_value=np.nan))
            & calls["line"].notna().to_numpy(dtype=bool))


def occupancy(start_s: np.ndarray, end_s: np.ndarray, edges_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the intervals ``[start_s, end_s)`` and the bucket edges ``edges_s`` (n + 1 ascending times): per bucket
    the most intervals open at once and the time-weighted mean of the intervals open (Erlangs)."""
    # stable: timsort, linear on the (nearly) sorted times the store and the PBXs give
    s = np.sort(np.asarray(start_s, dtype="float64"), kind="stable")
    e = np.sort(np.asarray(end_s, dtype="float64"), kind="stable")
    ref = edges_s[0]
    s_rel, e_rel, edges_rel = s - ref, e - ref, np.asarray(edges_s, dtype="float64") - ref

    def open_at(t: np.ndarray) -> np.ndarray:  # started at or before t, not yet ended at t
        return np.searchsorted(s_rel, t, "right") - np.searchsorted(e_rel, t, "right")

    level_at_edge = open_at(edges_rel)
    busy_max = level_at_edge[:-1].copy()
    inside = (s_rel >= edges_rel[0]) & (s_rel < edges_rel[-1])
    if inside.any():
        level_after_start = open_at(s_rel[inside])
        bucket = np.searchsorted(edges_rel, s_rel[inside], "right") - 1
        np.maximum.at(busy_max, bucket, level_after_start)
    # Integral of the open count up to t: sum over started of (t - s) minus sum over ended of (t - e).
    cs = np.concatenate(([0.0], np.cumsum(s_rel)))
    ce = np.concatenate(([0.0], np.cumsum(e_rel)))
    ns = np.searchsorted(s_rel, edges_rel, "right")
    ne = np.searchsorted(e_rel, edges_rel, "right")
    integral = edges_rel * ns - cs[ns] - (edges_rel * ne - ce[ne])
    width = np.diff(edges_rel)
    busy_mean = np.diff(integral) / width
    return busy_max.astype("int64"), np.clip(busy_mean, 0.0, None)


def _column(calls: pd.DataFrame, name: str, mask: np.ndarray, fill: object, dtype: str | type) -> np.ndarray:
    if name not in calls.columns:
        return np.full(int(mask.sum()), fill, dtype=dtype)
    return calls[name].to_numpy(dtype=dtype, na_value=fill)[mask]


def _started(calls: pd.DataFrame, start_s: float, end_s: float, bucket_s: int) -> pd.DataFrame:
    """Calls of known lines started in ``[start_s, end_s)`` with their bucket start ``time_s`` and the values the
    tables add up (only the columns needed are taken out of the frame, as numpy arrays)."""
    start = calls["start_s"].to_numpy(dtype="float64", na_value=np.nan)
    mask = calls["line"].notna().to_numpy(dtype=bool) & (start >= start_s) & (start < end_s)
    outcome = _column(calls, "outcome", mask, "", object)
    answered = outcome == CallOutcome.ANSWERED.value
    billsec = _column(calls, "billsec_s", mask, 0.0, "float64")
    billsec = np.where(np.isnan(billsec), 0.0, billsec)
    direction = _column(calls, "direction", mask, CallDirection.OUTBOUND.value, object)
    dest = _column(calls, "dest_class", mask, DestinationClass.UNKNOWN.value, object)
    cost = _column(calls, "cost", mask, 0.0, "float64")
    return pd.DataFrame({
        "line": _column(calls, "line", mask, "", object),
        "start_s": start[mask],
        "time_s": (np.floor(start[mask] / bucket_s) * bucket_s).astype("int64"),
        "answered": answered,
        "blocked": outcome == CallOutcome.BLOCKED.value,
        "direction": direction,
        "dest_class": dest,
        "high_risk": _column(calls, "high_risk", mask, False, bool),
        "talk_min": np.where(answered, billsec, 0.0) / 60.0,
        "billsec": np.where(answered, billsec, np.nan),
        "cost": np.where(np.isnan(cost), 0.0, cost),
        "premium": dest == DestinationClass.PREMIUM.value,
        "international": (direction == CallDirection.OUTBOUND.value) & (dest == DestinationClass.INTERNATIONAL.value),
    })


def _held(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line, start_s, end_s) of the calls holding a channel, as numpy arrays."""
    mask = _occupying(calls)
    return (calls["line"].to_numpy(dtype=object, na_value="")[mask],
            calls["start_s"].to_numpy(dtype="float64")[mask], calls["end_s"].to_numpy(dtype="float64")[mask])


def _line_codes(calls: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Per call the index of its line in ``names`` (-1: no line, or a line not in ``names``)."""
    line = pa.array(calls["line"], type=pa.string(), from_pandas=True)
    codes = pc.index_in(line, value_set=pa.array(names, type=pa.string()))
    return codes.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")


def _is(calls: pd.DataFrame, column: str, value: str) -> np.ndarray:
    if column not in calls.columns:
        return np.zeros(len(calls), dtype=bool)
    return (calls[column] == value).to_numpy(dtype=bool, na_value=False)


def _floats(calls: pd.DataFrame, column: str) -> np.ndarray:
    if column not in calls.columns:
        return np.zeros(len(calls))
    values = calls[column].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(values), 0.0, values)


def minute_table(calls: pd.DataFrame, *, lines: Mapping[str, Line], start_s: float, end_s: float) -> pd.DataFrame:
    """The ``voice_trunk`` rows of the minutes in ``[start_s, end_s)`` (rounded out to whole minutes): one per
    line of ``lines`` per minute that had a call in progress or started. ``calls``: every call overlapping the
    window (``CallStore.calls(overlapping=True)``), rated or not (not rated: cost 0, classes unknown). Columns:
    ``line``, ``time_s`` (minute start), then :data:`TRUNK_FIELDS` (NaN/<NA> where a field does not apply).

    Column-wise throughout: each call gets a key (line index × minutes + minute index) and every sum is one
    ``np.bincount`` over the keys of the active minutes."""
    t0, t1 = minute_floor(start_s), minute_ceil(end_s)
    if t1 <= t0:
        t1 = t0 + MINUTE_S
    n = (t1 - t0) // MINUTE_S
    names = sorted(lines)
    code = _line_codes(calls, names)
    start = calls["start_s"].to_numpy(dtype="float64", na_value=np.nan)
    end = calls["end_s"].to_numpy(dtype="float64", na_value=np.nan)

    # Busy channels per line and minute (only the minutes with a call in progress are kept).
    held = _occupying(calls) & (code >= 0)
    edges = np.arange(t0, t1 + MINUTE_S, MINUTE_S, dtype="float64")
    busy_keys, busy_max, busy_mean = [], [], []
    for k in np.unique(code[held]):
        mine = held & (code == k)
        peak, mean = occupancy(start[mine], end[mine], edges)
        active = np.flatnonzero((peak > 0) | (mean > 0))
        busy_keys.append(k * n + active)
        busy_max.append(peak[active])
        busy_mean.append(mean[active])

    # The calls started in the window, by key.
    began = (code >= 0) & (start >= t0) & (start < t1)
    keys = code[began] * n + ((start[began] - t0) // MINUTE_S).astype("int64")
    b_keys = np.concatenate(busy_keys) if busy_keys else np.zeros(0, dtype="int64")
    present = np.zeros(len(names) * n, dtype=bool)
    present[keys] = True
    present[b_keys] = True
    table_keys = np.flatnonzero(present)
    row_of = np.cumsum(present) - 1  # key -> row of the table
    rows = row_of[keys]
    size = len(table_keys)

    def total(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(rows, weights=None if weights is None else weights[began], minlength=size)

    answered = _is(calls, "outcome", CallOutcome.ANSWERED.value)
    talk_s = np.where(answered, _floats(calls, "billsec_s"), 0.0)
    outbound = _is(calls, "direction", CallDirection.OUTBOUND.value)
    dest = {c: _is(calls, "dest_class", c.value) for c in (DestinationClass.PREMIUM, DestinationClass.INTERNATIONAL)}
    high_risk = (calls["high_risk"].to_numpy(dtype=bool, na_value=False) if "high_risk" in calls.columns
                 else np.zeros(len(calls), dtype=bool))
    table = pd.DataFrame({"line": np.array(names, dtype=object)[table_keys // n] if size else np.zeros(0, object),
                          "time_s": t0 + (table_keys % n) * MINUTE_S})
    attempts = total().astype("int64")
    n_answered = total(answered.astype("float64")).astype("int64")
    busy_at = row_of[b_keys]
    table["busy_max"] = np.zeros(size, dtype="int64")
    table["busy_mean"] = np.zeros(size)
    if len(b_keys):
        table.loc[busy_at, "busy_max"] = np.concatenate(busy_max)
        table.loc[busy_at, "busy_mean"] = np.concatenate(busy_mean)
    table["attempts"] = attempts
    table["answered"] = n_answered
    table["failed"] = attempts - n_answered
    table["blocked"] = total(_is(calls, "outcome", CallOutcome.BLOCKED.value).astype("float64")).astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        table["asr_pct"] = np.where(attempts > 0, n_answered / attempts * 100, np.nan)
        table["acd_s"] = np.where(n_answered > 0, total(talk_s) / n_answered, np.nan)
    for direction, name in DIRECTION_MINUTES.items():
        table[name] = total(np.where(_is(calls, "direction", direction), talk_s, 0.0)) / 60.0
    table["cost"] = total(_floats(calls, "cost"))
    table["premium"] = total(dest[DestinationClass.PREMIUM].astype("float64")).astype("int64")
    table["high_risk"] = total(high_risk.astype("float64")).astype("int64")
    table["international"] = total((outbound & dest[DestinationClass.INTERNATIONAL]).astype("float64")
                                   ).astype("int64")
    channels_of = np.array([lines[name].channels or 0 for name in names], dtype="int64")
    channels = channels_of[table_keys // n] if size else np.zeros(0, dtype="int64")
    table["channels"] = pd.array(np.where(channels > 0, channels, 0), dtype="Int64")
    table.loc[channels == 0, "channels"] = pd.NA
    with np.errstate(invalid="ignore", divide="ignore"):
        table["channel_util_pct"] = np.where(channels > 0, table["busy_max"] / np.maximum(channels, 1) * 100,
                                             np.nan)
    return table[["line", "time_s", *TRUNK_FIELDS]]


def class_table(calls: pd.DataFrame, *, lines: Mapping[str, Line], start_s: float, end_s: float) -> pd.DataFrame:
    """The ``voice_minutes`` rows: per line × direction × dest_class × minute of the calls started in the
    window: ``calls``, ``answered``, ``minutes`` (talk), ``cost``."""
    t0, t1 = minute_floor(start_s), max(minute_ceil(end_s), minute_floor(start_s) + MINUTE_S)
    started = _started(calls, t0, t1, MINUTE_S)
    started = started[started["line"].isin(list(lines))]
    table = (started.groupby(["line", "direction", "dest_class", "time_s"], sort=True)
             .agg(calls=("answered", "size"), answered=("answered", "sum"), minutes=("talk_min", "sum"),
                  cost=("cost", "sum"))
             .reset_index())
    table["calls"] = table["calls"].astype("int64")
    table["answered"] = table["answered"].astype("int64")
    return table


def capacity_table(calls: pd.DataFrame, *, lines: Mapping[str, Line], day_start_s: float, day_end_s: float,
                   target_gos: float = 0.01) -> pd.DataFrame:
    """The ``voice_capacity`` rows: per line of ``lines`` (with calls) per UTC day in ``[day_start_s,
    day_end_s)``: the busiest clock hour's carried Erlangs and start, the offered traffic (``offered_traffic``:
    the carried traffic grossed up by the hour's share of blocked attempts), Erlang B blocking at the contracted channels, the channels
    needed for ``target_gos`` (a fraction: 0.01 for 1 %), the day's blocked calls and attempts. ``calls``: every
    call overlapping the days."""
    columns = ["line", "time_s", "busy_hour_erlangs", "busy_hour_start_s", "offered_erlangs", "blocking_pct",
               "channels", "channels_needed", "blocked", "calls"]
    d0, d1 = day_floor(day_start_s), day_floor(day_end_s - 1) + DAY_S
    held_line, held_start, held_end = _held(calls)
    started = _started(calls, d0, d1, DAY_S)
    started["hour_s"] = (np.floor(started["start_s"] / HOUR_S) * HOUR_S).astype("int64")
    rows = []
    for day in range(d0, d1, DAY_S):
        for line_id, line in lines.items():
            today = started[(started["line"] == line_id) & (started["time_s"] == day)]
            mine = (held_line == line_id) & (held_start < day + DAY_S) & (held_end > day)
            if not len(today) and not mine.any():
                continue
            hour_s, carried = erlang.busy_hour(held_start[mine], held_end[mine],
                                               day_start_s=float(day), day_end_s=float(day + DAY_S))
            in_hour = started[(started["line"] == line_id) & (started["hour_s"] == int(hour_s))
                              & (started["direction"] != CallDirection.INTERNAL.value)]
            hour_blocked = int(in_hour["blocked"].sum())
            hour_attempts = len(in_hour)
            offered = float(erlang.offered_traffic(carried, hour_blocked, hour_attempts))
            row: dict[str, object] = {
                "line": line_id, "time_s": day, "busy_hour_erlangs": float(carried),
                "busy_hour_start_s": int(hour_s), "offered_erlangs": offered,
                "channels_needed": int(erlang.channels_for(offered, gos=target_gos)),
                "blocked": int(today["blocked"].sum()), "calls": len(today),
                "channels": line.channels, "blocking_pct": np.nan,
            }
            if line.channels:
                row["blocking_pct"] = float(erlang.erlang_b(offered, line.channels)) * 100
            rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    table["channels"] = table["channels"].astype("Int64")
    return table


def _values(column: pd.Series, as_int: bool) -> list[int | float | None]:
    """A table column as Python ints or floats, None where missing (column-wise, not per value)."""
    missing = column.isna().to_numpy(dtype=bool)
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    out = (np.where(missing, 0, values).astype("int64") if as_int else values).astype(object)
    out[missing] = None
    return out.tolist()


def _points(measurement: str, table: pd.DataFrame, lines: Mapping[str, Line], names: list[str],
            extra_tags: tuple[str, ...] = ()) -> list[Point]:
    if not len(table):
        return []
    tags_of = {line_id: line_tags(line) for line_id, line in lines.items()}
    columns = [_values(table[name], name in INT_FIELDS) for name in names]
    times = (table["time_s"].to_numpy(dtype="int64") * 1_000_000_000).tolist()
    keys = [table[k].astype(str).tolist() for k in extra_tags]
    out = []
    for i, (line_id, time_ns, row) in enumerate(zip(table["line"].tolist(), times, zip(*columns))):
        tags = tags_of[line_id]
        if extra_tags:
            tags = tags | {k: values[i] for k, values in zip(extra_tags, keys)}
        out.append(Point(measurement, tags, {k: v for k, v in zip(names, row) if v is not None}, time_ns))
    return out


def points(*, minutes: pd.DataFrame | None = None, classes: pd.DataFrame | None = None,
           capacity: pd.DataFrame | None = None, lines: Mapping[str, Line]) -> list[Point]:
    """The InfluxDB points of the tables (``voice_trunk``, ``voice_minutes``, ``voice_capacity``): one per row
    (so per table row, not per call), the line's tags, times in whole seconds."""
    out: list[Point] = []
    if minutes is not None:
        out += _points(TRUNK_MEASUREMENT, minutes, lines, list(TRUNK_FIELDS))
    if classes is not None:
        out += _points(MINUTES_MEASUREMENT, classes, lines, ["calls", "answered", "minutes", "cost"],
                       extra_tags=("direction", "dest_class"))
    if capacity is not None:
        out += _points(CAPACITY_MEASUREMENT, capacity, lines,
                       ["busy_hour_erlangs", "busy_hour_start_s", "offered_erlangs", "blocking_pct", "channels",
                        "channels_needed", "blocked", "calls"])
    return out
