"""Periodic job of the finance overview (run by ``linewatch_worker``, registered in ``FinanceConfig.linewatch_jobs``):
the KPIs to InfluxDB for the Grafana finance dashboard (docs/schema.md "Finance KPIs")."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from linewatch.influx import InfluxClient, encode_points
from web.finance import figures
from web.finance.kpis import dispute_kpis
from web.finance.points import budget_points, dispute_points, payment_points

__all__ = ["kpi_points", "write_kpis"]

log = logging.getLogger(__name__)


def kpi_points(*, today: dt.date) -> list:  # type: ignore[type-arg]
    """Every ``finance_disputes``, ``finance_payments`` and ``finance_budget`` point of the database now."""
    points = dispute_points(dispute_kpis(figures.dispute_facts(), today=today))
    points += payment_points(figures.payment_kpis(today=today))
    for year in figures.years_with_budgets():
        points += budget_points(figures.budget_statuses(year))
    return points


def write_kpis(*, now: dt.datetime | None = None, client: InfluxClient | None = None) -> int:
    """Worker job (every 300 s): write :func:`kpi_points` (a re-run overwrites: same series and timestamps).
    Returns the number of points written."""
    today = timezone.localdate(now or timezone.now())
    points = kpi_points(today=today)
    if not points:
        return 0
    body = encode_points(points)
    if client is not None:
        client.write(body)
    else:
        with InfluxClient(settings.LINEWATCH.influx) as own:
            own.write(body)
    log.info("finance KPIs: %d points written", len(points))
    return len(points)
