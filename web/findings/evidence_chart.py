"""The evidence pack's charts: matplotlib SVG, one per measured line. Pure (a :class:`Measurement` in, SVG text out).

* usage: the 5-minute rates in and out (Mbit/s; the sums over the line's member interfaces) across the billing
  period, against the commit (or the capacity) as a dashed line;
* availability: the period's outages shaded (consecutive down buckets merged), the measured availability in the
  title.

Text is drawn as paths (``svg.fonttype: path``) in Noto Sans CJK, so Hangul needs no font in the reader of the
SVG (WeasyPrint, a browser); the SVG is deterministic (no date, a fixed id salt) so a pack renders the same twice.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence

from billing_etl.model import Period
from billing_etl.usage import BUCKET_S
from web.findings.evidence_data import Measurement
from web.findings.evidence_format import pct_text, rate_text
from web.findings.evidence_labels import text

FONTS = ["Noto Sans CJK KR", "Noto Sans CJK JP", "DejaVu Sans"]
USAGE_SIZE_IN = (7.0, 2.6)  # 504 pt wide: the A4 page's text width (180 mm)
AVAILABILITY_SIZE_IN = (7.0, 1.5)
IN_COLOUR, OUT_COLOUR, LIMIT_COLOUR, DOWN_COLOUR = "#305496", "#70ad47", "#c00000", "#c00000"
_RC = {"svg.fonttype": "path", "svg.hashsalt": "linewatch-evidence", "font.family": FONTS, "font.size": 8,
       "axes.spines.top": False, "axes.spines.right": False}


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def down_runs(starts_s: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive 5-minute buckets merged into ``(start_s, end_s)`` outages."""
    runs: list[tuple[int, int]] = []
    for start in sorted(starts_s):
        if runs and start <= runs[-1][1]:
            runs[-1] = (runs[-1][0], start + BUCKET_S)
        else:
            runs.append((start, start + BUCKET_S))
    return runs


def prefix_ids(svg: str, prefix: str) -> str:
    """Every ``id`` of ``svg`` and every reference to one (``href="#…"``, ``url(#…)``) prefixed: several charts
    inline in one HTML document must not share matplotlib's ids (glyphs, clip paths)."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(href=")#([^"]+)"', lambda m: f'{m.group(1)}#{prefix}{m.group(2)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)


def style_to_attributes(svg: str) -> str:
    """``style="fill: none; stroke: #000"`` as presentation attributes (``fill="none" stroke="#000"``): the same
    drawing, and an HTML renderer (WeasyPrint) does not read them as CSS of the HTML page (and warn for each)."""
    def attributes(m: re.Match[str]) -> str:
        pairs = [p.split(":", 1) for p in m.group(1).split(";") if ":" in p]
        return " ".join(f'{k.strip()}="{v.strip()}"' for k, v in pairs)

    return re.sub(r'style="([^"]*)"', attributes, svg)


def chart_svg(m: Measurement, language: str, *, id_prefix: str = "c-") -> str:
    """The chart of one measurement as an ``<svg>`` element (no XML declaration: for inline HTML), its ids
    prefixed with ``id_prefix`` (unique per chart of a document)."""
    import matplotlib as mpl
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    period = Period.parse(m.period)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=USAGE_SIZE_IN if m.kind == "usage" else AVAILABILITY_SIZE_IN)
        ax = fig.add_subplot()
        ax.set_xlim(_utc(period.start_s), _utc(period.end_s))
        if m.kind == "usage":
            times = [_utc(s.start_s) for s in m.samples]
            ax.plot(times, [None if s.in_bps is None else s.in_bps / 1e6 for s in m.samples], lw=0.6,
                    color=IN_COLOUR, label=text("chart_in", language))
            ax.plot(times, [None if s.out_bps is None else s.out_bps / 1e6 for s in m.samples], lw=0.6,
                    color=OUT_COLOUR, label=text("chart_out", language))
            if m.limit_bps:
                key = "chart_commit" if m.limit_is_commit else "chart_capacity"
                ax.axhline(m.limit_bps / 1e6, color=LIMIT_COLOUR, lw=0.9, ls="--",
                           label=text(key, language, rate=rate_text(m.limit_bps)))
            ax.set_ylim(bottom=0)
            ax.set_ylabel("Mbit/s")
            ax.set_title(text("chart_usage_title", language, line=m.line, period=m.period), loc="left")
            # Above the plot, right of the title: never over the data.
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False, ncols=3,
                      borderaxespad=0.2)
        else:
            for start, end in down_runs([b.start_s for b in m.down]):
                # At least a visible sliver: a five-minute outage is 1/8640 of the month's width.
                ax.axvspan(_utc(start), _utc(max(end, start + 3 * 3600)), color=DOWN_COLOUR, alpha=0.6, lw=0)
            ax.set_yticks([])
            ax.set_ylim(0, 1)
            availability = m.usage.availability_pct if m.usage is not None else None
            ax.set_title(text("chart_availability_title", language, line=m.line, period=m.period,
                              pct=pct_text(availability)), loc="left")
        ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=(1, 8, 15, 22), tz=dt.UTC))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d", tz=dt.UTC))
        ax.grid(axis="y", lw=0.3, alpha=0.5)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return style_to_attributes(prefix_ids(svg[svg.index("<svg"):], id_prefix))
