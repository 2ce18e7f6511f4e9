"""The demo's reports (web/reports/demo.py): last month's monthly reports written under ``<run dir>/reports/`` in
English and Korean, HTML and PDF, the department report once per department, and two report schedules seeded once.

Real parts: the demo inventory imported into the test database, November of the demo traffic model in the session
influxd (15-minute steps: the figures are not what is checked here, tests/web/test_report_builtin.py does that),
the real engine, providers and WeasyPrint.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from invoices_support import load_demo_inventory, use_config

from collector.demo.history import line_traffic_points
from linewatch.influx import InfluxClient, InfluxSettings, encode_points
from linewatch.inventory import load_inventory

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
NOV_S = calendar.timegm((2026, 11, 1, 0, 0, 0))
DEC_S = calendar.timegm((2026, 12, 1, 0, 0, 0))


@pytest.fixture(scope="module")
def influx(influxd) -> Iterator[InfluxSettings]:
    dbname = f"lw_reports_demo_{uuid.uuid4().hex[:10]}"
    requests.post(f"{influxd.url}/query", params={"q": f'CREATE DATABASE "{dbname}"'}, timeout=10).raise_for_status()
    settings = InfluxSettings(url=influxd.url, database=dbname, timeout_s=60)
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    with InfluxClient(settings) as client:
        points = list(line_traffic_points(inventory, start_s=NOV_S, end_s=DEC_S, step_s=900))
        for i in range(0, len(points), 20_000):
            client.write(encode_points(points[i:i + 20_000]))
    yield settings
    if influxd.running:
        requests.post(f"{influxd.url}/query", params={"q": f'DROP DATABASE "{dbname}"'}, timeout=10)


@pytest.fixture
def app(settings: Any, tmp_path: Path, influx: InfluxSettings) -> Any:
    use_config(settings, tmp_path / "var", url=influx.url, database=influx.database, timeout_s=60)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={
        "voice_path": REPO / "config" / "voice.yaml", "alerts_path": REPO / "config" / "alerts.yaml"})
    load_demo_inventory()
    return settings


def test_demo_seeds_two_schedules_once(app: Any) -> None:
    from web.reports.demo import DEMO_SCHEDULES, seed_schedules
    from web.reports.models import ReportSchedule

    assert seed_schedules() == 2
    assert seed_schedules() == 0, "a second demo on the same run folder keeps the schedules"
    schedules = {s.name: s for s in ReportSchedule.objects.all()}
    assert set(schedules) == {s.name for s in DEMO_SCHEDULES}
    engineering = schedules["Engineering monthly (ko)"]
    assert (engineering.report, engineering.language, engineering.department.name) == (
        "department-monthly", "ko", "Engineering")
    assert all(s.enabled and s.recipients for s in schedules.values())


def test_demo_writes_last_months_monthly_reports_in_both_languages_as_html_and_pdf(app: Any,
                                                                                   tmp_path: Path) -> None:
    from web.inventory.models import Department
    from web.reports import engine
    from web.reports.demo import REPORTS_FOLDER, run, summary

    result = run(tmp_path / "run", now=NOW)
    assert not result.failed, result.failed
    folder = tmp_path / "run" / REPORTS_FOLDER
    names = {p.name for p in folder.iterdir()}
    assert names == {p.name for p in result.written}
    monthly = [d.name for d in engine.definitions() if d.period_kind.value == "month"]
    assert {"department-monthly", "finance-monthly"} <= set(monthly)
    departments = list(Department.objects.values_list("name", flat=True))
    assert departments
    for name in monthly:
        for language in ("en", "ko"):
            for suffix in ("html", "pdf"):
                assert f"{name}-2026-11-{language}.{suffix}" in names, (name, language, suffix, sorted(names))
    for department in departments:
        slug = department.lower().replace(" ", "-")
        assert f"department-monthly-2026-11-{slug}-ko.pdf" in names
    for pdf in folder.glob("*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF"), pdf
    ko = (folder / "department-monthly-2026-11-ko.html").read_text(encoding="utf-8")
    en = (folder / "department-monthly-2026-11-en.html").read_text(encoding="utf-8")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko), "the Korean report is in Korean"
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in en.split("<body", 1)[-1]), "the English one is not"
    assert summary(result)[0].startswith(f"reports: {len(result.written)} files")
