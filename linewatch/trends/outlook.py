"""The capacity outlook as callers read it: the latest ``line_outlook`` point per line, as a DataFrame.

The trends job (``linewatch trends run``, billing_etl/trends.py) writes one ``line_outlook`` point per line per run
(docs/schema.md); the management application's outlook page, the reports and the ``forecast_crossing`` alert rule
read it through :func:`read_outlook`, so none of them needs to know InfluxQL or the field names' spelling. It lives
in the core because the areas depend only on ``linewatch`` (docs/architecture.md).

The measurement names and the field names of the three trend measurements are defined here, once: the job writes
what this module reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from linewatch.influx import InfluxClient
from linewatch.influx.influxql import exact_regex

__all__ = [
    "FORECAST_MEASUREMENT",
    "OUTLOOK_COLUMNS",
    "OUTLOOK_MEASUREMENT",
    "TREND_MEASUREMENT",
    "date_field",
    "days_field",
    "level_key",
    "outlook_statement",
    "read_outlook",
]

TREND_MEASUREMENT = "line_trend"  # one point per line per day: p95_pct, busy_hour_pct (actuals)
FORECAST_MEASUREMENT = "line_forecast"  # one point per line per future day: value_pct, lower_pct, upper_pct, method
OUTLOOK_MEASUREMENT = "line_outlook"  # one point per line per run (time = run time)

DEFAULT_LEVELS_PCT = (80.0, 95.0)


def level_key(level_pct: float) -> str:
    """How a level appears in field names: ``80`` for 80 %, ``87_5`` for 87.5 % (InfluxQL-friendly)."""
    return f"{level_pct:g}".replace(".", "_")


def days_field(level_pct: float) -> str:
    """``days_to_80``: whole days from the run's day to the day the forecast crosses the level (0: today)."""
    return f"days_to_{level_key(level_pct)}"


def date_field(level_pct: float, bound: str = "") -> str:
    """``date_80_s`` (``bound`` ``""``), ``date_80_earliest_s``, ``date_80_latest_s``: the crossing day's
    midnight (UTC) in epoch seconds; earliest from the interval's upper bound, latest from its lower bound."""
    suffix = f"_{bound}" if bound else ""
    return f"date_{level_key(level_pct)}{suffix}_s"


def _level_columns(levels_pct: Sequence[float]) -> list[str]:
    out: list[str] = []
    for level in levels_pct:
        out += [days_field(level), date_field(level), date_field(level, "earliest"), date_field(level, "latest")]
    return out


# Every column read_outlook returns, even when no point holds it (NaN / None then), in this order.
OUTLOOK_COLUMNS = [
    "line",
    "time",
    "method",
    "fitted_days",
    "busy_hour_pct",
    "p95_pct",
    "growth_pct_per_month",
    *_level_columns(DEFAULT_LEVELS_PCT),
    "billing_model",
    "currency",
    "commit_bps",
    "projected_p95_bps",
    "included_gb",
    "projected_volume_gb",
    "month_to_date_amount",
    "projected_amount",
    "contracted_amount",
    "period",
]
_TEXT_COLUMNS = {"line", "method", "billing_model", "currency", "period"}


def outlook_statement(lines: Sequence[str] | None = None) -> str:
    """The InfluxQL of the latest ``line_outlook`` point per line (the whole point: every field of that one run,
    not the last value of each field, which would mix runs where a crossing left the horizon)."""
    where = f' WHERE "line" =~ {exact_regex(lines)}' if lines else ""
    return f'SELECT * FROM "{OUTLOOK_MEASUREMENT}"{where} GROUP BY "line" ORDER BY time DESC LIMIT 1'


def read_outlook(client: InfluxClient, *, lines: Sequence[str] | None = None) -> pd.DataFrame:
    """The latest ``line_outlook`` point of every line (or of ``lines``), one row per line.

    Columns: :data:`OUTLOOK_COLUMNS` (``time``: the run's time, UTC; crossing fields absent from the point, i.e.
    not within the forecast's horizon, are NaN; billing fields are NaN / None for lines that are neither burstable
    nor volume-quota lines), plus any other field a point holds (``days_to_<level>`` of other configured levels).
    Sorted by ``days_to_80`` (soonest first, lines not crossing within the horizon last), then by line. An empty
    frame with those columns when nothing was written yet. Raises ``InfluxError`` (InfluxDB unreachable etc.).
    """
    if lines is not None and not lines:
        return _empty()
    frame = client.query_frame(outlook_statement(lines), epoch="s")
    if frame.empty or "line" not in frame.columns:
        return _empty()
    for column in OUTLOOK_COLUMNS:
        if column not in frame.columns:
            frame[column] = None if column in _TEXT_COLUMNS else np.nan
    for column in frame.columns:
        if column not in _TEXT_COLUMNS and column != "time":
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    extra = sorted(c for c in frame.columns if c not in OUTLOOK_COLUMNS)
    frame = frame[OUTLOOK_COLUMNS + extra]
    sort_key = days_field(DEFAULT_LEVELS_PCT[0])
    frame = frame.sort_values([sort_key, "line"], na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object if c in _TEXT_COLUMNS else float) for c in OUTLOOK_COLUMNS})
    frame["time"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame
