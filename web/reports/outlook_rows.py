"""The capacity outlook as the page's rows: :func:`linewatch.trends.outlook.read_outlook`'s frame (sorted by days
left) joined to the inventory's lines (their page, department, carrier). Pure: no database, no InfluxDB."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from linewatch.trends.outlook import date_field, days_field

__all__ = ["OutlookRow", "outlook_rows"]

WARN_DAYS = 30  # days left at or under which the row is highlighted (the forecast_crossing rule's default)


@dataclass(frozen=True)
class OutlookRow:
    line: str
    line_id: int | None  # the inventory's line (None: in InfluxDB only, e.g. removed since)
    department: str
    carrier: str
    busy_hour_pct: float | None
    p95_pct: float | None
    growth_pct_per_month: float | None
    days_to_80: float | None
    date_80: dt.date | None
    date_80_earliest: dt.date | None
    date_80_latest: dt.date | None
    days_to_95: float | None
    date_95: dt.date | None
    billing_model: str
    projected: float | None  # projected_p95_bps (burstable) or projected_volume_gb (quota)
    projected_unit: str  # "bps" or "GB" ("" when neither)
    projected_amount: float | None
    month_to_date_amount: float | None
    contracted_amount: float | None
    currency: str
    run_at: dt.datetime | None

    @property
    def soon(self) -> bool:
        return self.days_to_80 is not None and self.days_to_80 <= WARN_DAYS

    @property
    def overage(self) -> bool:
        """The projected bill is above the contracted amount (finance's early warning)."""
        return (self.projected_amount is not None and self.contracted_amount is not None
                and self.projected_amount > self.contracted_amount + 0.005)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _day(value: Any) -> dt.date | None:
    seconds = _num(value)
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC).date()


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def outlook_rows(frame: pd.DataFrame, lines: Mapping[str, Any]) -> list[OutlookRow]:
    """One row per line of ``frame`` in its order; ``lines``: the inventory's lines by name (a ``Line`` with
    ``pk``, ``department``, ``carrier``), the lines not in it kept without a link."""
    out: list[OutlookRow] = []
    for record in frame.to_dict("records"):
        name = _text(record.get("line"))
        line = lines.get(name)
        p95_bps, volume_gb = _num(record.get("projected_p95_bps")), _num(record.get("projected_volume_gb"))
        projected, unit = (p95_bps, "bps") if p95_bps is not None else (volume_gb, "GB" if volume_gb is not None
                                                                        else "")
        run = record.get("time")
        out.append(OutlookRow(
            line=name, line_id=getattr(line, "pk", None),
            department=str(getattr(line, "department", None) or ""),
            carrier=str(getattr(line, "carrier", None) or ""),
            busy_hour_pct=_num(record.get("busy_hour_pct")), p95_pct=_num(record.get("p95_pct")),
            growth_pct_per_month=_num(record.get("growth_pct_per_month")),
            days_to_80=_num(record.get(days_field(80))), date_80=_day(record.get(date_field(80))),
            date_80_earliest=_day(record.get(date_field(80, "earliest"))),
            date_80_latest=_day(record.get(date_field(80, "latest"))),
            days_to_95=_num(record.get(days_field(95))), date_95=_day(record.get(date_field(95))),
            billing_model=_text(record.get("billing_model")), projected=projected, projected_unit=unit,
            projected_amount=_num(record.get("projected_amount")),
            month_to_date_amount=_num(record.get("month_to_date_amount")),
            contracted_amount=_num(record.get("contracted_amount")), currency=_text(record.get("currency")),
            run_at=pd.Timestamp(run).to_pydatetime() if run is not None and not pd.isna(run) else None,
        ))
    return out
