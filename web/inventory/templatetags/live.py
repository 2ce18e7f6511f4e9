"""``{% line_live line as live %}``: the line page's InfluxDB figures (web.inventory.live)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from web.inventory import live

register = template.Library()


@register.simple_tag
def line_live(line: Any) -> dict[str, Any]:
    return live.for_line(line)


@register.filter
def mbps(bps: float | None) -> float | None:
    """bit/s → Mbit/s (format with ``floatformat``, which localizes)."""
    return None if bps is None else bps / 1e6


@register.filter
def gigabytes(n_bytes: float | None) -> float | None:
    """bytes → GB (10⁹ bytes)."""
    return None if n_bytes is None else n_bytes / 1e9


@register.filter
def epoch(seconds: int | None) -> dt.datetime | None:
    """epoch seconds → an aware datetime (format with ``date``)."""
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)
