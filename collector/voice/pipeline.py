"""One parsed CDR batch to the call store and InfluxDB: rate, store (exactly once), re-aggregate, write.

:meth:`VoicePipeline.ingest` is what the tailing service, the batch importer and the demo call for every chunk of
CDRs (``collector.voice.importer``, ``collector.voice.service``):

1. the calls already stored are set aside (a CDR re-read after a crash or a re-import is a duplicate, and must not
   use an included-minute bundle twice);
2. the new calls are rated (``linewatch.voice.rating.Rater``; each line's bundle usage of the month so far comes
   from the store);
3. ``CallStore.add`` writes them with the batch's quarantined rows and the source's offset in one transaction;
4. every minute (``voice_trunk``, ``voice_minutes``) and UTC day (``voice_capacity``) the new calls touch is
   re-computed from the store — with the calls overlapping it, whenever their CDR arrived — and its points are
   rewritten (same series and time: InfluxDB overwrites, so re-aggregation is idempotent);
5. the points go through the InfluxDB writer, whose disk spool keeps them while InfluxDB is down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from collector.voice.aggregate import (
    AGGREGATED_COLUMNS,
    DAY_S,
    MINUTE_S,
    capacity_table,
    class_table,
    day_floor,
    minute_ceil,
    minute_floor,
    minute_table,
    points,
)
from linewatch.influx import Point
from linewatch.inventory import Inventory
from linewatch.voice.config import VoiceConfig, voice_lines
from linewatch.voice.rating import Rater, month_bounds
from linewatch.voice.records import TailOffset
from linewatch.voice.store import CallStore

log = logging.getLogger(__name__)


class PointSink(Protocol):
    """What takes the points: :class:`linewatch.influx.PointWriter` (spooled), or anything with ``write``."""

    def write(self, points: Iterable[Point]) -> Any: ...


class Batch(Protocol):
    """What a parser returns (``linewatch.voice.formats.ParsedBatch``): calls, quarantined rows, lines read."""

    calls: pd.DataFrame
    problems: list[Any]
    rows: int


@dataclass(frozen=True, slots=True)
class IngestResult:
    """One batch: calls stored, calls already stored (or repeated in the batch), rows quarantined, points written."""

    new: int
    duplicates: int
    quarantined: int
    points: int


class VoicePipeline:
    """Rate, store, re-aggregate and write the CDR batches of every source (see the module docstring)."""

    def __init__(self, config: VoiceConfig, inventory: Inventory, store: CallStore, writer: PointSink | None) -> None:
        self.config = config
        self.store = store
        self.writer = writer
        self.lines = voice_lines(inventory)
        self.rater = Rater(config.rate_plans, config.numbering)
        self.plan_of_line = {line.id: line.rate_plan for line in self.lines.values() if line.rate_plan}
        countries = {t.line: t.country_code for t in config.trunks if t.country_code}
        self.country_of_line = {line_id: countries.get(line_id, config.numbering.country_code)
                                for line_id in self.lines}

    # -- one batch ---------------------------------------------------------------------------------------------

    def ingest(self, batch: Batch, *, offset: TailOffset | None, source: str) -> IngestResult:
        """Rate, store (with the batch's problems and ``offset``, one transaction), re-aggregate and write."""
        calls = batch.calls
        fresh = calls
        if len(calls):
            known = self.store.known_keys(calls["call_key"])
            if known:
                fresh = calls[~calls["call_key"].isin(known)]
            fresh = fresh.drop_duplicates("call_key", keep="first")
        rated = self.rate(fresh)
        inserted = self.store.add(rated, problems=batch.problems, offset=offset, source=source)
        written = self.write(self.reaggregate(inserted))
        return IngestResult(new=len(inserted), duplicates=len(calls) - len(inserted),
                            quarantined=len(batch.problems), points=written)

    def rate(self, calls: pd.DataFrame) -> pd.DataFrame:
        """``calls`` rated (ALL_COLUMNS), each line's bundles continuing from what the store says is used."""
        if not len(calls):
            return calls
        result = self.rater.rate(calls, plan_of_line=self.plan_of_line, country_of_line=self.country_of_line,
                                 bundle_used_s=self._bundles_used(calls))
        return result.frame

    def _bundles_used(self, calls: pd.DataFrame) -> dict[tuple[str, str], float]:
        used: dict[tuple[str, str], float] = {}
        start = calls["start_s"].to_numpy(dtype="float64", na_value=np.nan)
        line = calls["line"].to_numpy(dtype=object, na_value="")
        for line_id, plan_name in self.plan_of_line.items():
            plan = self.config.rate_plan(plan_name)
            mine = start[(line == line_id) & ~np.isnan(start)]
            if plan is None or not len(mine):
                continue
            zone = getattr(plan, "timezone", "UTC")
            first, last = (pd.Timestamp(t, unit="s", tz="UTC").tz_convert(zone) for t in (mine.min(), mine.max()))
            for period in pd.period_range(first.tz_localize(None).to_period("M"),
                                          last.tz_localize(None).to_period("M"), freq="M"):
                month = str(period)
                used[(line_id, month)] = self.store.bundle_used_s(line_id, *month_bounds(plan, month))
        return used

    # -- re-aggregation ----------------------------------------------------------------------------------------

    def reaggregate(self, calls: pd.DataFrame) -> list[Point]:
        """The points of every minute and day ``calls`` touch (from their start to their end), from the store."""
        calls = calls[calls["line"].isin(list(self.lines))] if len(calls) else calls
        if not len(calls):
            return []
        lines = sorted(set(calls["line"].astype(object)))
        start_s = float(calls["start_s"].min())
        end_s = float(np.nanmax(calls["end_s"].to_numpy(dtype="float64", na_value=np.nan), initial=start_s))
        return self.minute_points(lines, start_s, end_s) + self.capacity_points(lines, start_s, end_s)

    def minute_points(self, lines: list[str], start_s: float, end_s: float) -> list[Point]:
        """``voice_trunk`` and ``voice_minutes`` of ``lines`` for the minutes of ``[start_s, end_s]``."""
        t0 = minute_floor(start_s)
        t1 = max(minute_ceil(end_s), t0 + MINUTE_S)
        stored = self.store.calls(lines=lines, start_s=t0, end_s=t1, overlapping=True, columns=AGGREGATED_COLUMNS)
        chosen = {line_id: self.lines[line_id] for line_id in lines}
        return points(minutes=minute_table(stored, lines=chosen, start_s=t0, end_s=t1),
                      classes=class_table(stored, lines=chosen, start_s=t0, end_s=t1), lines=chosen)

    def capacity_points(self, lines: list[str], start_s: float, end_s: float) -> list[Point]:
        """``voice_capacity`` of ``lines`` for the UTC days of ``[start_s, end_s]``."""
        d0, d1 = day_floor(start_s), day_floor(end_s) + DAY_S
        stored = self.store.calls(lines=lines, start_s=d0, end_s=d1, overlapping=True, columns=AGGREGATED_COLUMNS)
        chosen = {line_id: self.lines[line_id] for line_id in lines}
        table = capacity_table(stored, lines=chosen, day_start_s=d0, day_end_s=d1,
                               target_gos=self.config.capacity.target_gos)
        return points(capacity=table, lines=chosen)

    def refresh_capacity(self, now_s: float) -> int:
        """Rewrite today's ``voice_capacity`` of every voice line (the service does it every cycle); points written."""
        return self.write(self.capacity_points(sorted(self.lines), now_s, now_s))

    def rebuild(self, start_s: float, end_s: float) -> int:
        """Re-compute and rewrite every voice point of ``[start_s, end_s)`` from the store (e.g. after a change of
        a line's channels); points written."""
        lines = sorted(self.lines)
        return self.write(self.minute_points(lines, start_s, end_s) + self.capacity_points(lines, start_s, end_s))

    def write(self, batch: list[Point]) -> int:
        if batch and self.writer is not None:
            self.writer.write(batch)
        return len(batch)
