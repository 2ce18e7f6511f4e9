"""When a schedule's report falls due: pure date arithmetic (no database, no clock).

A schedule delivers the **last complete period** (a monthly report: the previous month), at ``send_hour`` on the
day after the period ends, in the application's time zone. Only that period: a worker that was down for two
months delivers the latest month, not a backlog; a new schedule delivers the last complete period at once (its
due moment has passed). Whether a period was delivered already is the database's business
(:mod:`web.reports.delivery`): these functions only say which period is due and when to look again.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from linewatch.choices import ReportPeriodKind
from web.reports.period import Period, containing, last_complete

__all__ = ["RETRY_INITIAL_S", "RETRY_MAX_S", "due_at", "due_period", "next_run", "retry_at"]

RETRY_INITIAL_S = 600  # a failed render is tried again after 10 min, then 20, 40 ... at most every 6 h
RETRY_MAX_S = 6 * 3600


def due_at(period: Period, *, tz: ZoneInfo, send_hour: int) -> dt.datetime:
    """The moment ``period`` is delivered: ``send_hour`` o'clock on the day after its last day, in ``tz``."""
    if not 0 <= send_hour <= 23:
        raise ValueError(f"send_hour: {send_hour} is not an hour 0..23")
    return dt.datetime.combine(period.end_day, dt.time(send_hour), tzinfo=tz)


def due_period(kind: ReportPeriodKind, now: dt.datetime, *, tz: ZoneInfo, send_hour: int) -> Period | None:
    """The period a schedule delivers at ``now``: the last complete one once its due moment has passed (None
    between a period's end and its send hour)."""
    period = last_complete(kind, now, tz)
    return period if due_at(period, tz=tz, send_hour=send_hour) <= now else None


def next_run(kind: ReportPeriodKind, now: dt.datetime, *, tz: ZoneInfo, send_hour: int) -> dt.datetime:
    """The first due moment after ``now`` (the last complete period's, before its send hour; else the current
    period's)."""
    current = containing(kind, now, tz)
    previous = due_at(current.previous(), tz=tz, send_hour=send_hour)
    return previous if previous > now else due_at(current, tz=tz, send_hour=send_hour)


def retry_at(now: dt.datetime, *, attempts: int) -> dt.datetime:
    """When a delivery that failed ``attempts`` times is tried again (doubling from 10 min, at most 6 h)."""
    delay_s = min(RETRY_INITIAL_S * 2 ** max(0, attempts - 1), RETRY_MAX_S)
    return now + dt.timedelta(seconds=delay_s)
