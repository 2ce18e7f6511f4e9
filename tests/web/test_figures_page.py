"""The reliability figures from real tickets: the page (/faults/figures/) and the worker jobs writing
``fault_figures`` and ``incidents_open`` to a real InfluxDB (docs/schema.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from linewatch.influx import InfluxClient, InfluxSettings

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
H = 3600


def _t(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture
def tickets(make_inventory: Any) -> dict[str, Any]:
    """Six lines (make_inventory: in service LINE-002 Telia, LINE-003 Colt, LINE-004 Telia); LINE-002 down from
    30 Nov 23:00 to 1 Dec 02:00 (two overlapping tickets) and 1 Dec 10:00-10:30; LINE-003 down since 2 Dec 11:00."""
    from web.faults.models import Ticket

    inv = make_inventory(6)
    lines = {line.name: line for line in inv["lines"]}

    def outage(line: str, opened: dt.datetime, resolved: dt.datetime | None, **extra: Any) -> Ticket:
        state = "resolved" if resolved else "open"
        return Ticket.objects.create(line=lines[line], carrier=lines[line].carrier, kind="line_down", outage=True,
                                     opened_at=opened, resolved_at=resolved, state=state,
                                     cause="carrier" if resolved else "", **extra)

    outage("LINE-002", _t(2026, 11, 30, 23), _t(2026, 12, 1, 1))
    outage("LINE-002", _t(2026, 12, 1, 0, 30), _t(2026, 12, 1, 2))
    outage("LINE-002", _t(2026, 12, 1, 10), _t(2026, 12, 1, 10, 30))
    outage("LINE-003", _t(2026, 12, 2, 11), None)
    Ticket.objects.create(line=lines["LINE-004"], kind="degraded", outage=False, opened_at=_t(2026, 12, 1, 5),
                          location="x")  # not an outage: no downtime, but an open incident
    return inv


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.mark.django_db
def test_month_figures_from_tickets(tickets: Any, now: dt.datetime) -> None:
    from web.faults.figures_query import month_figures

    december = month_figures(2026, 12, now=now)
    observed = 36 * H  # 1 Dec 00:00 to 2 Dec 12:00
    assert december.end_s - december.start_s == observed
    assert set(december.by_line) == {"LINE-002", "LINE-003", "LINE-004"}
    line2 = december.by_line["LINE-002"]
    assert (line2.incidents, line2.downtime_s, line2.mttr_s) == (2, 2.5 * H, 1.25 * H)
    assert december.by_line["LINE-003"].downtime_s == 1 * H  # unresolved: counted to now
    telia = december.by_carrier["Telia"]
    assert (telia.incidents, telia.downtime_s, telia.period_s) == (2, 2.5 * H, 2 * observed)
    november = month_figures(2026, 11, now=now)
    assert (november.by_line["LINE-002"].incidents, november.by_line["LINE-002"].downtime_s) == (1, H)


@pytest.mark.django_db
def test_figures_page_shows_carriers_and_lines_of_the_chosen_month(client: Any, user_with_role: Any, tickets: Any,
                                                                   now: dt.datetime) -> None:
    client.force_login(user_with_role("viewer"))
    page = client.get("/faults/figures/?month=2026-12")
    assert page.status_code == 200
    carriers = {row.name: row for row in page.context["carriers"]}
    assert (carriers["Telia"].incidents, carriers["Telia"].downtime, carriers["Telia"].mttr) == (2, "02:30:00",
                                                                                                 "01:15:00")
    assert page.context["lines"][0].name == "LINE-002", "the least available line first"
    body = page.content.decode()
    assert "96.528" in body  # LINE-002: 100 × (36 h − 2.5 h) / 36 h
    assert client.get("/faults/figures/?month=2026-11").context["lines"][0].downtime == "01:00:00"
    assert client.get("/faults/figures/").context["selected"] == "2026-12"


@pytest.mark.django_db
def test_figures_page_refuses_a_bad_month_naming_the_field(client: Any, user_with_role: Any) -> None:
    client.force_login(user_with_role("viewer"))
    response = client.get("/faults/figures/?month=2026-13")
    assert response.status_code == 400 and b"month: 2026-13" in response.content


@pytest.mark.django_db
def test_figures_page_months_follow_the_time_zone(client: Any, user_with_role: Any, tickets: Any, now: dt.datetime,
                                                  settings: Any) -> None:
    """In Seoul (UTC+9) 30 Nov 23:00 UTC is already 1 December: the first outage is December's alone."""
    settings.TIME_ZONE = "Asia/Seoul"
    client.force_login(user_with_role("viewer"))
    november = {row.name: row for row in client.get("/faults/figures/?month=2026-11").context["lines"]}
    assert november["LINE-002"].incidents == 0


@pytest.mark.django_db
def test_figures_page_in_korean(client: Any, user_with_role: Any, tickets: Any, now: dt.datetime) -> None:
    client.force_login(user_with_role("viewer"))
    client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    body = client.get("/faults/figures/").content.decode()
    assert "신뢰성 지표" in body and "가용률" in body


# -- the InfluxDB writer (real influxd) ----------------------------------------------------------------------------
@pytest.fixture
def influx(influx_db: tuple[str, str], settings: Any) -> InfluxSettings:
    url, database = influx_db
    influx = InfluxSettings(url=url, database=database)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": influx})
    return influx


def _rows(influx: InfluxSettings, query: str) -> list[dict[str, Any]]:
    with InfluxClient(influx) as client:
        return [dict(zip(s["columns"], v, strict=True)) | s.get("tags", {})
                for s in client.query(query) for v in s["values"]]


@pytest.mark.django_db
def test_write_figures_one_point_per_line_and_month_overwritten_on_rerun(tickets: Any, now: dt.datetime,
                                                                         influx: InfluxSettings) -> None:
    from web.faults.figures_influx import write_figures

    assert write_figures(now=now) == 6  # 3 lines × (November, December)
    assert write_figures(now=now) == 6
    rows = _rows(influx, 'SELECT * FROM "fault_figures" GROUP BY "line", "carrier"')
    assert len(rows) == 6, "a re-run overwrites (same series, same month start)"
    by = {(r["line"], r["time"]): r for r in rows}
    dec = int(_t(2026, 12, 1).timestamp())
    line2 = by[("LINE-002", dec)]
    assert (line2["carrier"], line2["incidents"], line2["downtime_s"], line2["mttr_s"]) == ("Telia", 2, 9000, 4500)
    assert line2["period_s"] == 36 * H
    assert line2["availability_pct"] == pytest.approx(100 * (36 - 2.5) / 36)
    quiet = by[("LINE-004", dec)]
    assert (quiet["incidents"], quiet["mttr_s"], quiet["availability_pct"]) == (0, 0, 100)


@pytest.mark.django_db
def test_write_open_incidents_counts_active_tickets_per_kind_and_carrier_with_zeros(
        tickets: Any, now: dt.datetime, influx: InfluxSettings) -> None:
    from web.faults.figures_influx import write_open_incidents
    from web.faults.models import Ticket

    written = write_open_incidents(now=now)
    assert written == 5 * 3  # fault kinds × (Telia, Colt, none)
    Ticket.objects.filter(line__name="LINE-003").update(state="resolved", resolved_at=NOW, cause="carrier")
    write_open_incidents(now=now + dt.timedelta(minutes=1))
    rows = _rows(influx, 'SELECT last("count") AS "count" FROM "incidents_open" GROUP BY "kind", "carrier"')
    nonzero = {(r["kind"], r["carrier"]): r["count"] for r in rows if r["count"]}
    assert nonzero == {("degraded", "Telia"): 1}, "the resolved ticket's count went back to 0"
    first = _rows(influx, f'SELECT "count" FROM "incidents_open" WHERE time = {int(NOW.timestamp())}s '
                          'GROUP BY "kind", "carrier"')
    assert {(r["kind"], r["carrier"]) for r in first if r["count"]} == {("line_down", "Colt"), ("degraded", "Telia")}


@pytest.mark.django_db
def test_the_worker_runs_the_figures_and_inspections_jobs(tickets: Any, influx: InfluxSettings) -> None:
    """The worker finds the three jobs (web/inspections/apps.py) and runs them without arguments."""
    from web.notify.worker import collect_jobs

    jobs = {job.path: job for job in collect_jobs()}
    mine = {"web.inspections.jobs:run": 900, "web.faults.figures_influx:write_figures": 300,
            "web.faults.figures_influx:write_open_incidents": 60}
    assert {path: jobs[path].interval_s for path in mine} == mine
    for path in mine:  # as run_job does, without its closing of the connections (the test's transaction)
        jobs[path].function()()
    assert _rows(influx, 'SELECT count("count") FROM "incidents_open"')[0]["count"] == 15
