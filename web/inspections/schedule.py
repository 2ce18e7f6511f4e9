"""When a plan's inspections fall due: pure date arithmetic (no database, no clock).

The next inspection is due one interval after the previous one's due day, not after the day it was performed,
so a late inspection does not shift the plan (a plan due on the 5th stays on the 5th).
"""

from __future__ import annotations

import calendar
import datetime as dt

from linewatch.choices import InspectionRecurrence, InspectionState

__all__ = ["following_due", "month_day_on", "state_on"]


def month_day_on(year: int, month: int, day: int) -> dt.date:
    """``day`` of ``year-month``, or the month's last day when it is shorter (day 31 of April: the 30th)."""
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def following_due(due: dt.date, *, recurrence: InspectionRecurrence, interval_days: int | None = None,
                  month_day: int | None = None) -> dt.date:
    """The due day after ``due`` for a plan repeating by ``recurrence``."""
    if recurrence == InspectionRecurrence.EVERY_N_DAYS:
        if not interval_days or interval_days < 1:
            raise ValueError(f"interval_days: {interval_days!r} must be 1 or more for every_n_days")
        return due + dt.timedelta(days=interval_days)
    if not month_day or not 1 <= month_day <= 31:
        raise ValueError(f"month_day: {month_day!r} must be 1 to 31 for monthly_day")
    candidate = month_day_on(due.year, due.month, month_day)
    if candidate > due:
        return candidate
    year, month = (due.year + 1, 1) if due.month == 12 else (due.year, due.month + 1)
    return month_day_on(year, month, month_day)


def state_on(due: dt.date, today: dt.date, *, done: bool) -> InspectionState:
    """An inspection's state on ``today``: done once performed, overdue after its due day, else due."""
    if done:
        return InspectionState.DONE
    return InspectionState.OVERDUE if today > due else InspectionState.DUE
