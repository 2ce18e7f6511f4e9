"""A report's period: a calendar month (``2026-11``) or an ISO week (``2026-W47``), its bounds in a time zone,
the previous period and its label in Korean or English. Pure: no Django, no I/O.

Bounds are half-open ``[start, end)`` at local midnight in the given zone, so a month in ``Asia/Seoul`` starts
at 15:00 UTC the day before; daylight-saving changes are handled by building local midnights, not by adding
hours.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from linewatch.choices import ReportPeriodKind

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-[Ww](\d{1,2})$")

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


class PeriodError(ValueError):
    """A period text that is neither ``YYYY-MM`` nor ``YYYY-Www``, or a month/week that does not exist."""


@dataclass(frozen=True, order=True)
class Period:
    """One month (``number`` 1..12) or one ISO week (``number`` 1..53) of ``year`` (the ISO year for weeks)."""

    kind: ReportPeriodKind
    year: int
    number: int

    def __post_init__(self) -> None:
        if self.kind == ReportPeriodKind.MONTH and not 1 <= self.number <= 12:
            raise PeriodError(f"month {self.number} of {self.year}: months are 1..12")
        if self.kind == ReportPeriodKind.WEEK:
            weeks = dt.date(self.year, 12, 28).isocalendar().week  # 28 December is always in the last week
            if not 1 <= self.number <= weeks:
                raise PeriodError(f"week {self.number} of {self.year}: ISO year {self.year} has weeks 1..{weeks}")

    @property
    def key(self) -> str:
        """The period as text, the form :func:`parse_period` reads: ``2026-11`` or ``2026-W47``."""
        if self.kind == ReportPeriodKind.MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        return f"{self.year:04d}-W{self.number:02d}"

    def __str__(self) -> str:
        return self.key

    @property
    def first_day(self) -> dt.date:
        if self.kind == ReportPeriodKind.MONTH:
            return dt.date(self.year, self.number, 1)
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def end_day(self) -> dt.date:
        """The day after the period's last day (exclusive end)."""
        return self.next().first_day

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days

    def bounds(self, tz: ZoneInfo | str = "UTC") -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)``: local midnights of the first day and of the day after the last, in ``tz``."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return (dt.datetime.combine(self.first_day, dt.time(), tzinfo=zone),
                dt.datetime.combine(self.end_day, dt.time(), tzinfo=zone))

    def bounds_s(self, tz: ZoneInfo | str = "UTC") -> tuple[float, float]:
        """:meth:`bounds` as epoch seconds (InfluxQL time ranges)."""
        start, end = self.bounds(tz)
        return start.timestamp(), end.timestamp()

    def previous(self) -> Period:
        return self.shift(-1)

    def next(self) -> Period:
        return self.shift(1)

    def shift(self, n: int) -> Period:
        """The period ``n`` periods later (earlier when negative)."""
        if self.kind == ReportPeriodKind.MONTH:
            months = self.year * 12 + (self.number - 1) + n
            return Period(self.kind, months // 12, months % 12 + 1)
        monday = self.first_day + dt.timedelta(weeks=n)
        iso = monday.isocalendar()
        return Period(self.kind, iso.year, iso.week)

    def contains(self, when: dt.datetime | dt.date, tz: ZoneInfo | str = "UTC") -> bool:
        day = _local_day(when, tz)
        return self.first_day <= day < self.end_day

    def label(self, language: str) -> str:
        """``November 2026`` / ``2026년 11월``; ``Week 47, 2026 (16–22 Nov)`` / ``2026년 47주 (11월 16일–22일)``."""
        ko = language == "ko"
        if self.kind == ReportPeriodKind.MONTH:
            return f"{self.year}년 {self.number}월" if ko else f"{_MONTHS_EN[self.number - 1]} {self.year}"
        first, last = self.first_day, self.end_day - dt.timedelta(days=1)
        if ko:
            last_text = f"{last.day}일" if last.month == first.month else f"{last.month}월 {last.day}일"
            return f"{self.year}년 {self.number}주 ({first.month}월 {first.day}일–{last_text})"
        first_text = f"{first.day}" if last.month == first.month else f"{first.day} {_MONTHS_EN[first.month - 1][:3]}"
        return f"Week {self.number}, {self.year} ({first_text}–{last.day} {_MONTHS_EN[last.month - 1][:3]})"


def parse_period(text: str, *, kind: ReportPeriodKind | None = None) -> Period:
    """``2026-11`` → that month, ``2026-W47`` → that ISO week. With ``kind``, the other form is an error (a
    monthly report asked for a week), naming what was expected."""
    value = text.strip()
    m = _MONTH.match(value)
    w = None if m else _WEEK.match(value)
    if not m and not w:
        raise PeriodError(f"period {text!r}: expected YYYY-MM (a month, e.g. 2026-11) or YYYY-Www (an ISO week, "
                          f"e.g. 2026-W47)")
    period = (Period(ReportPeriodKind.MONTH, int(m[1]), int(m[2])) if m
              else Period(ReportPeriodKind.WEEK, int(w[1]), int(w[2])))  # type: ignore[index]
    if kind is not None and period.kind != kind:
        example = "2026-11" if kind == ReportPeriodKind.MONTH else "2026-W47"
        raise PeriodError(f"period {text!r} is a {period.kind.value}; this report covers a {kind.value} "
                          f"(e.g. {example})")
    return period


def containing(kind: ReportPeriodKind, when: dt.datetime | dt.date, tz: ZoneInfo | str = "UTC") -> Period:
    """The period of ``kind`` that contains ``when`` (a datetime is read in ``tz``)."""
    day = _local_day(when, tz)
    if kind == ReportPeriodKind.MONTH:
        return Period(kind, day.year, day.month)
    iso = day.isocalendar()
    return Period(kind, iso.year, iso.week)


def last_complete(kind: ReportPeriodKind, now: dt.datetime, tz: ZoneInfo | str = "UTC") -> Period:
    """The latest period of ``kind`` that has ended at ``now`` (the one a schedule delivers)."""
    return containing(kind, now, tz).previous()


def _local_day(when: dt.datetime | dt.date, tz: ZoneInfo | str) -> dt.date:
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ValueError(f"{when.isoformat()}: a naive datetime; give one with a time zone")
        return when.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz).date()
    return when
