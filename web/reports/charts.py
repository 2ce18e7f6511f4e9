"""Report charts as SVG text (matplotlib, no pyplot: one ``Figure`` per call, safe in the worker's threads).

Three kinds, enough for the built-in reports: a line chart of utilization over time with an optional forecast
drawn dashed (its interval shaded) and a capacity level (80 %), a bar chart, and an hour-of-day × weekday heatmap.
Text stays text in the SVG (``svg.fonttype: none``) in Noto Sans CJK KR, so Korean labels are drawn by the PDF's
embedded font (and by the browser's), and the output is deterministic (fixed ids, no date): the same data gives
the same bytes. Legend and axis words come from the active language's catalogue (providers run inside the
report's language).
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import matplotlib
import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from matplotlib import dates as mdates
from matplotlib.figure import Figure

FONT_FAMILY = ["Noto Sans CJK KR", "DejaVu Sans"]
COLOURS = ["#0969da", "#8250df", "#1a7f37", "#bf3989", "#9a6700", "#cf222e", "#57606a", "#0550ae"]
LEVEL_COLOUR = "#cf222e"
_RC = {
    "svg.fonttype": "none",  # text as <text>: the PDF's embedded font draws Hangul
    "svg.hashsalt": "linewatch-report",  # stable element ids: the same chart, the same bytes
    "font.family": "sans-serif",
    "font.sans-serif": FONT_FAMILY,
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d0d7de",
    "grid.linewidth": 0.5,
    "axes.edgecolor": "#8c959f",
    "axes.titlesize": 9.5,
    "legend.frameon": False,
}
WEEKDAYS = {"en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "ko": ["월", "화", "수", "목", "금", "토", "일"]}


_F = TypeVar("_F", bound=Callable[..., Any])
# matplotlib.rc_context sets the process-wide rcParams: two charts drawn at once (the worker's threads, the app's
# requests) would restore each other's settings half-way. One chart at a time (a chart takes 0.2-0.7 s).
_DRAWING = threading.Lock()


def _one_at_a_time(fn: _F) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _DRAWING:
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "linewatch"})
    return buf.getvalue()


def _figure(width_in: float, height_in: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width_in, height_in), layout="constrained")


@_one_at_a_time
def line_chart(series: Mapping[str, pd.Series] | pd.Series, *, forecast: pd.DataFrame | None = None,
               level_pct: float | None = None, y_label: str = "%", title: str = "",
               forecast_label: str | None = None, width_in: float = 7.0, height_in: float = 2.6) -> str:
    """Lines over time. ``series``: one Series or ``{label: Series}`` on DatetimeIndexes (values in percent by
    default); ``forecast``: a frame with ``value_pct`` and optionally ``lower_pct``/``upper_pct`` (T1's
    ``Forecast.frame``) drawn dashed with the interval shaded; ``level_pct``: a horizontal line (the 80 % of the
    contracted capacity) labelled with its value."""
    items = {"": series} if isinstance(series, pd.Series) else dict(series)
    with matplotlib.rc_context(_RC):
        fig = _figure(width_in, height_in)
        ax = fig.add_subplot()
        for i, (label, s) in enumerate(items.items()):
            s = s.dropna()
            ax.plot(s.index, s.to_numpy(dtype=float), color=COLOURS[i % len(COLOURS)], linewidth=1.3,
                    label=label or None)
        if forecast is not None and len(forecast):
            colour = COLOURS[0] if len(items) == 1 else "#57606a"
            if {"lower_pct", "upper_pct"} <= set(forecast.columns):
                ax.fill_between(forecast.index, forecast["lower_pct"].to_numpy(dtype=float),
                                forecast["upper_pct"].to_numpy(dtype=float), color=colour, alpha=0.12,
                                linewidth=0, label=_("Forecast interval"))
            ax.plot(forecast.index, forecast["value_pct"].to_numpy(dtype=float), color=colour, linewidth=1.3,
                    linestyle=(0, (4, 2)), label=forecast_label or _("Forecast"))
        if level_pct is not None:
            ax.axhline(level_pct, color=LEVEL_COLOUR, linewidth=0.9, linestyle=(0, (1, 1.5)),
                       label=_("%(level)s %% of capacity") % {"level": f"{level_pct:g}"})
        ax.set_ylabel(y_label)
        if title:
            ax.set_title(title, loc="left")
        if y_label.strip() == "%":
            top = max([level_pct or 0.0, *(_max(s) for s in items.values()),
                       _max(forecast["upper_pct"]) if forecast is not None and "upper_pct" in forecast else 0.0,
                       _max(forecast["value_pct"]) if forecast is not None and len(forecast) else 0.0])
            ax.set_ylim(0, max(10.0, min(top * 1.08, 150.0)))
        locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize=7.5, ncols=4)
        return _svg(fig)


def _max(s: pd.Series | None) -> float:
    if s is None or not len(s):
        return 0.0
    value = float(np.nanmax(s.to_numpy(dtype=float))) if s.notna().any() else 0.0
    return value


@_one_at_a_time
def bar_chart(categories: Sequence[str], values: Mapping[str, Sequence[float]] | Sequence[float], *,
              y_label: str = "", title: str = "", horizontal: bool = False, level: float | None = None,
              width_in: float = 7.0, height_in: float = 2.6) -> str:
    """Bars per category; ``values`` one sequence or ``{label: sequence}`` (grouped bars side by side);
    ``horizontal`` for long category names (line names); ``level``: a reference line (80 %)."""
    groups = {"": list(values)} if not isinstance(values, Mapping) else {k: list(v) for k, v in values.items()}
    for label, vals in groups.items():
        if len(vals) != len(categories):
            raise ValueError(f"bar chart {title!r}: {label or 'values'} has {len(vals)} values for "
                             f"{len(categories)} categories")
    n = max(len(groups), 1)
    with matplotlib.rc_context(_RC):
        if horizontal:
            height_in = max(height_in, 0.28 * len(categories) + 0.8)
        fig = _figure(width_in, height_in)
        ax = fig.add_subplot()
        pos = np.arange(len(categories))
        width = 0.8 / n
        for i, (label, vals) in enumerate(groups.items()):
            offset = (i - (n - 1) / 2) * width
            data = np.array([np.nan if v is None else float(v) for v in vals])
            if horizontal:
                ax.barh(pos + offset, data, height=width, color=COLOURS[i % len(COLOURS)], label=label or None)
            else:
                ax.bar(pos + offset, data, width=width, color=COLOURS[i % len(COLOURS)], label=label or None)
        if horizontal:
            ax.set_yticks(pos, list(categories))
            ax.invert_yaxis()
            ax.set_xlabel(y_label)
            ax.grid(axis="y", visible=False)
            if level is not None:
                ax.axvline(level, color=LEVEL_COLOUR, linewidth=0.9, linestyle=(0, (1, 1.5)))
        else:
            ax.set_xticks(pos, list(categories), rotation=30 if len(categories) > 8 else 0,
                          ha="right" if len(categories) > 8 else "center")
            ax.set_ylabel(y_label)
            ax.grid(axis="x", visible=False)
            if level is not None:
                ax.axhline(level, color=LEVEL_COLOUR, linewidth=0.9, linestyle=(0, (1, 1.5)))
        if title:
            ax.set_title(title, loc="left")
        if len(groups) > 1:
            ax.legend(fontsize=7.5, ncols=min(n, 4))
        return _svg(fig)


@_one_at_a_time
def heatmap_chart(grid: pd.DataFrame, *, language: str, value_label: str = "%", title: str = "",
                  vmax: float | None = None, width_in: float = 7.0, height_in: float = 2.4) -> str:
    """Hour of day (columns 0..23) × weekday (index 0 = Monday..6) mean utilization (T2's ``heatmap``); empty
    cells (NaN) stay blank; the colour scale starts at 0 and ends at ``vmax`` (the data's maximum, at least 10)."""
    if grid.shape != (7, 24):
        raise ValueError(f"heatmap {title!r}: expected 7 weekdays × 24 hours, got {grid.shape[0]} × {grid.shape[1]}")
    data = grid.to_numpy(dtype=float)
    top = vmax if vmax is not None else max(10.0, float(np.nanmax(data)) if np.isfinite(data).any() else 10.0)
    with matplotlib.rc_context(_RC):
        fig = _figure(width_in, height_in)
        ax = fig.add_subplot()
        ax.grid(False)
        image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="YlOrRd", vmin=0, vmax=top,
                          interpolation="nearest")
        ax.set_yticks(range(7), WEEKDAYS.get(language, WEEKDAYS["en"]))
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_xlabel(_("Hour of day"))
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label(value_label)
        bar.outline.set_visible(False)
        if title:
            ax.set_title(title, loc="left")
        return _svg(fig)
