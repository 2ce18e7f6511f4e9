"""``{% line_outlook line as outlook %}``: a line's capacity outlook on the line page (days until 80 % and 95 %,
the interval, growth, the projected bill), from the latest ``line_outlook`` point; None when the trends job has
written none for the line or InfluxDB does not answer (the page then shows nothing of it)."""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.conf import settings

from linewatch.errors import InfluxError

register = template.Library()
log = logging.getLogger(__name__)
PAGE_TIMEOUT_S = 2.0  # the line page must not wait on InfluxDB for this block


@register.simple_tag
def line_outlook(line: Any) -> Any:
    from linewatch.influx import InfluxClient
    from linewatch.trends.outlook import read_outlook
    from web.reports.outlook_rows import outlook_rows

    influx = settings.LINEWATCH.influx_settings()
    influx = influx.model_copy(update={"timeout_s": min(influx.timeout_s, PAGE_TIMEOUT_S)})
    try:
        with InfluxClient(influx) as client:
            rows = outlook_rows(read_outlook(client, lines=[line.name]), {line.name: line})
    except InfluxError as exc:
        log.info("line page %s: no outlook from InfluxDB: %s", line.name, exc)
        return None
    return rows[0] if rows else None
