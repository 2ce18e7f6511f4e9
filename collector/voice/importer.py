"""Batch import of a CDR file (``linewatch voice import FILE --source NAME``, docs/cdr.md).

The file is parsed in chunks of complete lines (its last line counts even without a newline: the file is
complete) and each chunk goes through the pipeline like a tailed one, without an offset: a file imported twice, or
imported while its source is also tailed, loads every call once (the store keeps one row per call key).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linewatch.inventory import Inventory
from linewatch.voice.formats import parse
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.mapping import TrunkMapper
from linewatch.voice.records import RowProblem

CHUNK_BYTES = 32 << 20


@dataclass
class ImportSummary:
    """What an import did: lines read, calls loaded (new), calls already stored, rows quarantined (and which)."""

    rows: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.rows} rows: {self.loaded} calls loaded, {self.duplicates} already stored, "
                f"{self.quarantined} quarantined")


def line_chunks(data: bytes, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[bytes, int]]:
    """``(chunk, first_row)``: ``data`` cut after a newline about every ``chunk_bytes``."""
    if data and not data.endswith(b"\n"):
        data += b"\n"
    pos, row = 0, 1
    while pos < len(data):
        cut = data.rfind(b"\n", pos, pos + chunk_bytes)
        if cut < 0:
            cut = data.find(b"\n", pos + chunk_bytes)
        chunk = data[pos:cut + 1]
        yield chunk, row
        row += chunk.count(b"\n")
        pos = cut + 1


def import_file(path: Path, source: CdrSource, pipeline: Any, *, mapper: TrunkMapper | None = None,
                layout: CsvLayout | None = None, chunk_bytes: int = CHUNK_BYTES) -> ImportSummary:
    """Parse ``path`` as ``source``'s format and ingest it through ``pipeline`` (a ``VoicePipeline``: its config
    gives the trunks and the layout unless ``mapper`` / ``layout`` are passed)."""
    path = Path(path)
    if mapper is None:
        inventory = Inventory.model_construct(devices=[], lines=list(pipeline.lines.values()), maintenance=[])
        mapper = TrunkMapper(pipeline.config.trunks, inventory, source=source.name)
    if layout is None and source.layout:
        layout = pipeline.config.layout(source.layout)
    summary = ImportSummary()
    for chunk, first_row in line_chunks(path.read_bytes(), chunk_bytes=chunk_bytes):
        batch = parse(chunk, source, mapper=mapper, layout=layout, first_row=first_row, file=str(path))
        result = pipeline.ingest(batch, offset=None, source=source.name)
        summary.rows += batch.rows
        summary.loaded += result.new
        summary.duplicates += result.duplicates
        summary.quarantined += len(batch.problems)
        summary.problems.extend(batch.problems)
    return summary
