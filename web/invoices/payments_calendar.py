"""The payments calendar (``/invoices/calendar/``): a month as weeks of seven days, Monday first, each day listing
the invoices due that day (unpaid), the payments scheduled and the invoices paid. Pure: the view passes the
invoices."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from billing_etl.model import Period
from linewatch.choices import InvoiceState


@dataclass
class Day:
    date: dt.date
    in_month: bool
    today: bool = False
    due: list[Any] = field(default_factory=list)  # unpaid invoices due this day
    scheduled: list[Any] = field(default_factory=list)  # payments scheduled this day (not yet paid)
    paid: list[Any] = field(default_factory=list)  # invoices paid this day

    @property
    def empty(self) -> bool:
        return not (self.due or self.scheduled or self.paid)


def month_weeks(period: Period, invoices: Iterable[Any], *, today: dt.date) -> list[list[Day]]:
    """The weeks (Monday to Sunday) covering ``period``; days outside it are listed (``in_month`` False) empty."""
    days: dict[dt.date, Day] = {}
    weeks = []
    for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(period.year, period.month):
        weeks.append([days.setdefault(d, Day(d, d.month == period.month, d == today)) for d in week])
    for invoice in invoices:
        if invoice.state == InvoiceState.PAID:
            _put(days, invoice.paid_on, "paid", invoice, period)
            continue
        _put(days, invoice.due_date, "due", invoice, period)
        if invoice.state == InvoiceState.SCHEDULED:
            _put(days, invoice.payment_date, "scheduled", invoice, period)
    return weeks


def _put(days: dict[dt.date, Day], when: dt.date | None, kind: str, invoice: Any, period: Period) -> None:
    if when is not None and when in days and period.contains(when):
        getattr(days[when], kind).append(invoice)

