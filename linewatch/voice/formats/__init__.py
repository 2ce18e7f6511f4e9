"""CDR formats (docs/cdr.md): each parser turns raw rows into the normalized call frame (linewatch.voice.frame).

``parse`` dispatches by the source's format to ``linewatch.voice.formats.<format>:parse`` (same signature; format
csv: ``csvlayout``), loaded by name, so a format module plugs in without this package importing it. A parser gets complete lines only; every
row it cannot load becomes a :class:`~linewatch.voice.records.RowProblem` (``file:row: reason``) and the other rows
of the batch load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from linewatch.choices import CdrFormat
from linewatch.plugins import load
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.records import RowProblem

if TYPE_CHECKING:
    from linewatch.voice.mapping import TrunkMapper

__all__ = ["ParsedBatch", "parse", "parser_for", "read_file"]


@dataclass
class ParsedBatch:
    """A parsed chunk: the calls (CALL_COLUMNS, then a layout's extra ``carrier_*`` columns), the rows not loaded,
    and how many lines were consumed (header and empty lines included)."""

    calls: pd.DataFrame
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0


MODULES = {CdrFormat.CSV: "csvlayout"}  # a format whose module is not named like it (csv would read as the stdlib's)


def parser_for(fmt: CdrFormat | str) -> Callable[..., ParsedBatch]:
    """The ``parse`` function of a format's module: ``linewatch.voice.formats.<format>:parse``."""
    value = CdrFormat(fmt)
    parser = load(f"linewatch.voice.formats.{MODULES.get(value, value.value)}:parse")
    assert parser is not None
    return parser


def parse(data: bytes, source: CdrSource, *, mapper: TrunkMapper, layout: CsvLayout | None = None,
          first_row: int = 1, file: str) -> ParsedBatch:
    """Parse complete CDR lines of ``source`` (``first_row``: the file row number of the first line; ``file``: the
    name problems quote). Format csv needs the source's ``layout``."""
    if source.format is CdrFormat.CSV and layout is None:
        raise ValueError(f"source {source.name!r} has format csv: pass its layout ({source.layout!r})")
    if not data:
        from linewatch.voice.frame import empty_calls

        return ParsedBatch(empty_calls(), [], 0)
    return parser_for(source.format)(data, source, mapper=mapper, layout=layout, first_row=first_row, file=file)


def read_file(path: Path, source: CdrSource, *, mapper: TrunkMapper, layout: CsvLayout | None = None) -> ParsedBatch:
    """Parse a whole CDR file (a last line without its newline counts: the file is complete)."""
    return parse(Path(path).read_bytes(), source, mapper=mapper, layout=layout, first_row=1, file=str(path))
