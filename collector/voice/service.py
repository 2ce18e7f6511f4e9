"""The voice collector (``linewatch voice run``): every ``collector.interval_s``, tail each CDR source, ingest what
it wrote, poll the live sources, refresh today's capacity.

One cycle (:meth:`VoiceService.cycle`):

1. each voice.yaml source is tailed from the offset committed in the call store (``collector.voice.tail``:
   rotation-safe), each chunk of complete lines parsed (``linewatch.voice.formats.parse``) and ingested
   (:class:`~collector.voice.pipeline.VoicePipeline`: calls, problems and the new offset in one transaction);
2. each live source is polled (``voice_live``);
3. today's ``voice_capacity`` is rewritten for every voice line.

Faults are survived and reported, per source: a missing CDR file (logged once until it appears), a bad row
(quarantined by the parser, counted), a store or parser failure (logged; the source's reader restarts from the
committed offset next cycle, so nothing is skipped or loaded twice), InfluxDB down (the writer spools every point).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.voice.live import LivePoller, LiveReading
from collector.voice.pipeline import PointSink, VoicePipeline
from collector.voice.tail import TailReader
from linewatch.inventory import Inventory
from linewatch.inventory_source import load_configured_inventory
from linewatch.settings import Settings
from linewatch.voice.config import VoiceConfig, load_voice_config, voice_lines
from linewatch.voice.formats import parse
from linewatch.voice.formats.config import CdrSource
from linewatch.voice.mapping import TrunkMapper
from linewatch.voice.store import CallStore, open_store

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    """One source in one cycle."""

    source: str
    rows: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    points: int = 0
    error: str = ""


@dataclass
class CycleReport:
    started_s: float
    duration_s: float = 0.0
    sources: list[SourceReport] = field(default_factory=list)
    live: list[LiveReading] = field(default_factory=list)
    points: int = 0

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.sources)

    def summary(self) -> str:
        parts = [f"{s.source}: {s.new} new" + (f", {s.duplicates} duplicate" if s.duplicates else "")
                 + (f", {s.quarantined} quarantined" if s.quarantined else "") + (f" ({s.error})" if s.error else "")
                 for s in self.sources]
        parts += [f"{r.source}: {r.active} active" if r.ok else f"{r.source}: live failed ({r.error})"
                  for r in self.live]
        return "; ".join(parts) + f"; {self.points} points in {self.duration_s:.2f} s"


def make_writer(settings: Settings) -> Any:
    """The spooled InfluxDB writer of the settings (InfluxDB may be down at start: points wait in the spool)."""
    from linewatch.errors import InfluxError
    from linewatch.influx import PointWriter

    writer = PointWriter.from_settings(settings.influx_settings())
    try:
        writer.client.ensure_database()
    except InfluxError as exc:
        log.warning("InfluxDB not ready (%s); voice points will be spooled until it is", exc)
    return writer


class VoiceService:
    """The voice collector of one settings file. ``writer``: default the settings' spooled InfluxDB writer;
    ``clock``: epoch seconds (tests inject one)."""

    def __init__(self, settings: Settings, *, writer: PointSink | None = None,
                 inventory: Inventory | None = None, config: VoiceConfig | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.inventory = inventory if inventory is not None else load_configured_inventory(settings)
        self.config = config if config is not None else load_voice_config(settings, self.inventory)
        self.interval_s = float(settings.collector.interval_s)
        self._own_writer = writer is None
        self.writer: Any = writer if writer is not None else make_writer(settings)
        self.store: CallStore = open_store(settings, self.config)
        self.pipeline = VoicePipeline(self.config, self.inventory, self.store, self.writer)
        self.live = LivePoller(self.config.live, voice_lines(self.inventory))
        self._clock = clock
        self._readers: dict[str, TailReader] = {}
        self._mappers = {s.name: TrunkMapper(self.config.trunks, self.inventory, source=s.name)
                         for s in self.config.sources}
        self._missing: set[str] = set()

    # -- one cycle ---------------------------------------------------------------------------------------------

    def cycle(self, now_s: float | None = None) -> CycleReport:
        """Tail every source, poll the live sources, refresh today's capacity; never raises for a fault of one
        source (it is in the report and the log)."""
        began = time.perf_counter()
        now_s = self._clock() if now_s is None else now_s
        report = CycleReport(started_s=now_s)
        for source in self.config.sources:
            report.sources.append(self.tail(source))
            report.points += report.sources[-1].points
        try:
            report.live = self.live.poll()
            report.points += self.pipeline.write(self.live.points(report.live, now_s))
        except Exception:  # a bug guard (the poller reports a PBX's faults itself): the cycle goes on
            log.exception("voice cycle: live poll failed")
        try:
            report.points += self.pipeline.refresh_capacity(now_s)
        except Exception:
            log.exception("voice cycle: refreshing today's capacity failed")
        report.duration_s = time.perf_counter() - began
        return report

    def tail(self, source: CdrSource) -> SourceReport:
        """Read what ``source``'s file gained since the committed offset and ingest it, chunk by chunk."""
        report = SourceReport(source.name)
        path = Path(source.path)
        if not path.exists() and source.name not in self._readers:
            if source.name not in self._missing:
                log.warning("CDR source %s: %s does not exist (yet); it is read once it appears", source.name, path)
                self._missing.add(source.name)
            report.error = f"{path} missing"
            return report
        if source.name in self._missing:
            log.info("CDR source %s: %s appeared", source.name, path)
            self._missing.discard(source.name)
        try:
            reader = self._readers.get(source.name)
            if reader is None:
                reader = TailReader(source, path, start=self.store.offset(source.name))
                self._readers[source.name] = reader
            layout = self.config.layout(source.layout)
            for data, first_row, offset in reader.chunks():
                batch = parse(data, source, mapper=self._mappers[source.name], layout=layout, first_row=first_row,
                              file=str(path))
                result = self.pipeline.ingest(batch, offset=offset, source=source.name)
                report.rows += batch.rows
                report.new += result.new
                report.duplicates += result.duplicates
                report.quarantined += result.quarantined
                report.points += result.points
        except Exception as exc:  # the reader restarts from the committed offset: nothing skipped, nothing twice
            self._readers.pop(source.name, None)
            log.exception("CDR source %s: %s", source.name, exc)
            report.error = f"{type(exc).__name__}: {exc}"
        if report.quarantined:
            log.warning("CDR source %s: %d row(s) quarantined (linewatch voice status lists them)", source.name,
                        report.quarantined)
        return report

    # -- the loop ----------------------------------------------------------------------------------------------

    def run(self, stop_event: threading.Event, *, on_cycle: Callable[[CycleReport], Any] | None = None) -> None:
        """Cycle every ``collector.interval_s`` until ``stop_event`` is set."""
        while not stop_event.is_set():
            began = time.monotonic()
            report = self.cycle()
            log.info("voice cycle: %s", report.summary())
            if on_cycle is not None:
                on_cycle(report)
            stop_event.wait(max(0.0, self.interval_s - (time.monotonic() - began)))

    def close(self) -> None:
        self.live.close()
        self.store.close()
        if self._own_writer:
            self.writer.close()

    def __enter__(self) -> VoiceService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
