"""Reliability figures (web/faults/figures.py): pure, exact seconds."""

from __future__ import annotations

import pytest

from web.faults.figures import (
    Figures,
    Outage,
    by_carrier,
    by_line,
    line_figures,
    merge,
    month_bounds,
    month_of,
)

H = 3600.0
DAY = 86400.0
START = 1_000_000.0  # any period start
END = START + 10 * H  # a 10 h period


@pytest.mark.parametrize(("intervals", "merged"), [
    pytest.param([], [], id="none"),
    pytest.param([(0, 10)], [(0, 10)], id="one"),
    pytest.param([(5, 10), (0, 3)], [(0, 3), (5, 10)], id="sorted"),
    pytest.param([(0, 10), (5, 20)], [(0, 20)], id="overlapping-merged"),
    pytest.param([(0, 10), (10, 20)], [(0, 20)], id="touching-merged"),
    pytest.param([(0, 30), (5, 10)], [(0, 30)], id="contained-swallowed"),
    pytest.param([(5, 5), (7, 6)], [], id="empty-dropped"),
])
def test_merge_joins_overlapping_and_touching_intervals(intervals: list, merged: list) -> None:
    assert merge(intervals) == merged


@pytest.mark.parametrize(("outages", "incidents", "downtime_s", "mttr_s", "mtbf_s", "availability_pct"), [
    pytest.param([], 0, 0, None, None, 100.0, id="no-outage"),
    pytest.param([(START + H, START + 2 * H)], 1, H, H, 9 * H, 90.0, id="one-hour-of-ten"),
    pytest.param([(START + H, START + 2 * H), (START + 4 * H, START + 7 * H)], 2, 4 * H, 2 * H, 3 * H, 60.0,
                 id="two-outages"),
    pytest.param([(START + H, START + 3 * H), (START + 2 * H, START + 4 * H)], 1, 3 * H, 3 * H, 7 * H, 70.0,
                 id="overlapping-tickets-are-one-incident"),
    pytest.param([(START - 5 * H, START + H)], 1, H, H, 9 * H, 90.0, id="started-before-the-period-clipped"),
    pytest.param([(END - H, END + 5 * H)], 1, H, H, 9 * H, 90.0, id="ends-after-the-period-clipped"),
    pytest.param([(END - 2 * H, None)], 1, 2 * H, 2 * H, 8 * H, 80.0, id="unresolved-lasts-to-the-end"),
    pytest.param([(START - 2 * H, START - H), (END, END + H)], 0, 0, None, None, 100.0, id="outside-ignored"),
    pytest.param([(START - H, END + H)], 1, 10 * H, 10 * H, 0, 0.0, id="down-all-period"),
])
def test_line_figures_exact_seconds(outages: list, incidents: int, downtime_s: float, mttr_s: float | None,
                                    mtbf_s: float | None, availability_pct: float) -> None:
    figures = line_figures([Outage("L", s, e) for s, e in outages], start_s=START, end_s=END)
    assert (figures.incidents, figures.downtime_s, figures.mttr_s, figures.mtbf_s, figures.availability_pct) == (
        incidents, downtime_s, mttr_s, mtbf_s, availability_pct)


def test_an_outage_crossing_a_month_boundary_is_split_between_the_months() -> None:
    """30 Nov 23:00 to 1 Dec 02:00 (UTC): 1 h in November, 2 h in December, one incident in each."""
    nov = month_bounds(2026, 11, "UTC")
    dec = month_bounds(2026, 12, "UTC")
    outage = Outage("L", dec[0] - H, dec[0] + 2 * H)
    in_nov = line_figures([outage], start_s=nov[0], end_s=nov[1])
    in_dec = line_figures([outage], start_s=dec[0], end_s=dec[1])
    assert (in_nov.incidents, in_nov.downtime_s, in_nov.period_s) == (1, H, 30 * DAY)
    assert (in_dec.incidents, in_dec.downtime_s, in_dec.period_s) == (1, 2 * H, 31 * DAY)


def test_by_line_gives_every_line_even_without_outages_and_ignores_unknown_lines() -> None:
    figures = by_line([Outage("A", START, START + H), Outage("X", START, END)], ["A", "B"],
                      start_s=START, end_s=END)
    assert figures == {"A": Figures(1, H, 10 * H), "B": Figures(0, 0, 10 * H)}


def test_a_carrier_adds_its_lines_in_line_seconds() -> None:
    """Two lines of 10 h, one down 1 h: 20 line-hours observed, 95 %; MTBF = 19 h of operation per failure."""
    lines = by_line([Outage("A", START, START + H)], ["A", "B", "C"], start_s=START, end_s=END)
    carriers = by_carrier(lines, {"A": "Telia", "B": "Telia", "C": "Colt"})
    telia = carriers["Telia"]
    assert (telia.incidents, telia.downtime_s, telia.period_s, telia.mttr_s, telia.mtbf_s, telia.availability_pct) == (
        1, H, 20 * H, H, 19 * H, 95.0)
    assert carriers["Colt"] == Figures(0, 0, 10 * H)
    assert list(carriers) == ["Colt", "Telia"]


@pytest.mark.parametrize(("year", "month", "tz", "start_iso", "days"), [
    pytest.param(2026, 11, "UTC", "2026-11-01T00:00:00+00:00", 30, id="utc-november"),
    pytest.param(2026, 12, "UTC", "2026-12-01T00:00:00+00:00", 31, id="utc-december-into-next-year"),
    pytest.param(2028, 2, "UTC", "2028-02-01T00:00:00+00:00", 29, id="leap-february"),
    pytest.param(2026, 11, "Asia/Seoul", "2026-10-31T15:00:00+00:00", 30, id="seoul-month-starts-at-15-utc"),
    pytest.param(2026, 10, "Europe/Berlin", "2026-09-30T22:00:00+00:00", 31 + 1 / 24,
                 id="berlin-october-has-an-extra-hour"),
])
def test_month_bounds_in_the_time_zone(year: int, month: int, tz: str, start_iso: str, days: float) -> None:
    import datetime as dt

    start_s, end_s = month_bounds(year, month, tz)
    assert start_s == dt.datetime.fromisoformat(start_iso).timestamp()
    assert end_s - start_s == pytest.approx(days * DAY)
    assert month_of(start_s, tz) == (year, month)
    assert month_of(end_s - 1, tz) == (year, month)


def test_a_bad_month_or_period_is_an_error_naming_the_field() -> None:
    with pytest.raises(ValueError, match="month: 13"):
        month_bounds(2026, 13, "UTC")
    with pytest.raises(ValueError, match="end_s"):
        line_figures([], start_s=END, end_s=START)
