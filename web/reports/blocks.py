"""The building blocks of a report: a table, a chart (SVG), a key figure, a text. Providers return them by name
(``{"lines": Table(...), "heatmap": Chart(...)}``); templates place them with the macros of
``reports/_blocks.html`` (``{{ b.block(blocks.lines) }}``). Pure data: the strings in them are already in the
report's language (providers translate), numbers stay numbers and are formatted by :func:`format_cell`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from linewatch.choices import ReportBlockKind

TONES = ("good", "warning", "bad", "neutral")  # a Figure's colour (CSS class figure--<tone>)


@dataclass
class Table:
    """Rows of cells under ``columns``. ``numeric``: the indexes of the columns drawn right-aligned with numbers
    formatted (thousands separators, one decimal for floats); ``None`` cells show as an en dash."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    numeric: set[int] = field(default_factory=set)
    kind: ClassVar[ReportBlockKind] = ReportBlockKind.TABLE

    def __post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"table {self.title!r}: row {i} has {len(row)} cells, the table {width} columns")
        bad = sorted(i for i in self.numeric if not 0 <= i < width)
        if bad:
            raise ValueError(f"table {self.title!r}: numeric columns {bad} outside 0..{width - 1}")


@dataclass
class Chart:
    """An SVG document (from :mod:`web.reports.charts`); embedded as an image, so its styles and scripts never
    touch the page around it."""

    title: str
    svg: str
    note: str = ""
    kind: ClassVar[ReportBlockKind] = ReportBlockKind.CHART

    def __post_init__(self) -> None:
        if "<svg" not in self.svg[:2000]:
            raise ValueError(f"chart {self.title!r}: svg is not an SVG document")


@dataclass
class Figure:
    """One key figure: ``value`` already formatted with its unit (``"82.4 %"``), ``change`` against the previous
    period (``"+3.1 pt"``), ``tone`` one of :data:`TONES`."""

    label: str
    value: str
    change: str | None = None
    tone: str | None = None
    kind: ClassVar[ReportBlockKind] = ReportBlockKind.FIGURE

    def __post_init__(self) -> None:
        if self.tone is not None and self.tone not in TONES:
            raise ValueError(f"figure {self.label!r}: tone {self.tone!r}, expected one of {', '.join(TONES)}")


@dataclass
class Text:
    """Plain text; an empty line separates paragraphs. Escaped when rendered (no HTML from providers)."""

    body: str
    kind: ClassVar[ReportBlockKind] = ReportBlockKind.TEXT

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


Block = Table | Chart | Figure | Text
BLOCK_TYPES: tuple[type, ...] = (Table, Chart, Figure, Text)


def is_block(value: object) -> bool:
    return isinstance(value, BLOCK_TYPES)


def format_cell(value: Any, *, decimals: int = 1) -> str:
    """A table cell as text: ``None``/NaN → ``–``, ints with thousands separators, floats with ``decimals``
    places, dates ISO 8601, datetimes to the minute. Both languages write numbers the same way (1,234.5)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "–"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.{decimals}f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
