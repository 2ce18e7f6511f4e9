"""audit_periods against the real InfluxDB (session influxd) on the demo inventory, contracts and invoices: the
ETL's run_period on the web's data, exports under STATE_DIR/exports, the period's invoices audited, one failing
period reported while the others go on."""

from __future__ import annotations

import datetime as dt

import pytest
from invoices_support import import_demo_invoices, load_demo_inventory, store_path, use_config

from linewatch.choices import InvoiceState
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.servers.ports import free_tcp_port

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]


@pytest.fixture
def audited_world(settings, tmp_path, influx_db):
    url, dbname = influx_db
    use_config(settings, tmp_path, url=url, database=dbname)
    load_demo_inventory()
    import_demo_invoices(store_path(tmp_path))
    from web.invoices.sync import sync_store

    sync_store()
    return {"state_dir": tmp_path, "influx": InfluxSettings(url=url, database=dbname)}


def test_billing_config_comes_from_the_apps_lines_and_contracts_and_the_carriers_file(audited_world):
    from web.inventory.models import Contract, Line
    from web.invoices.audit import billing_config

    Line.objects.filter(name="LON-INET-1").update(circuit_id="COLT-UK-RENUMBERED")
    config = billing_config()
    assert config.inventory.lines_by_id["LON-INET-1"].circuit_id == "COLT-UK-RENUMBERED"  # the app's, not the file's
    assert {c.line for c in config.contracts.contracts} == set(Contract.objects.values_list("line__name", flat=True))
    assert {"Colt", "Orange Business"} <= {c.name for c in config.carriers.carriers}


def test_each_period_is_audited_with_findings_exports_and_its_invoices_moved_to_audited(audited_world):
    from web.invoices.audit import audit_periods
    from web.invoices.models import Invoice

    with InfluxClient(audited_world["influx"]) as client:
        results = audit_periods(["2026-10", "2026-09", "2026-10"], client=client)
    assert [r.period for r in results] == ["2026-09", "2026-10"]  # sorted, each once
    assert all(r.ok for r in results), [r.error for r in results]
    october = results[1]
    assert october.findings > 0 and october.report is not None
    exports = audited_world["state_dir"] / "exports"
    assert (exports / "billing-2026-10.xlsx").is_file() and all(p.parent == exports for p in october.exports)
    assert set(Invoice.objects.values_list("state", flat=True)) == {InvoiceState.AUDITED.value}
    assert len(october.invoices_audited) == Invoice.objects.filter(period="2026-10").count()
    from billing_etl.finding_ids import finding_key
    from web.finance.models import CostActual
    from web.findings.models import Finding

    keys = {finding_key(f, "2026-10") for f in october.report.findings}
    assert set(Finding.objects.filter(period="2026-10").values_list("key", flat=True)) == keys  # web/findings
    assert CostActual.objects.filter(period="2026-10").count() >= len(october.report.lines) > 0  # web/finance
    linked = Finding.objects.filter(period="2026-10", invoice__isnull=False)
    assert linked.exists() and all(f.invoice.number == f.invoice_number for f in linked)
    event = Invoice.objects.filter(period="2026-10").first().events.get(transition="audit")
    assert event.actor_name == "linewatch" and event.data["period"] == "2026-10"


def test_the_findings_are_in_influxdb_as_billing_findings_points(audited_world):
    from web.invoices.audit import audit_periods

    with InfluxClient(audited_world["influx"]) as client:
        results = audit_periods(["2026-10"], client=client)
        rows = client.query('SELECT sum("count") FROM "billing_findings" WHERE "period" = \'2026-10\'')
    assert rows and rows[0]["values"][0][1] == results[0].findings > 0


def test_a_failing_period_is_reported_and_the_others_still_run(audited_world):
    from web.invoices.audit import audit_periods
    from web.invoices.models import Invoice

    with InfluxClient(audited_world["influx"]) as client:
        results = audit_periods(["2026-13", "2026-10"], client=client)
    by_period = {r.period: r for r in results}
    assert not by_period["2026-13"].ok and "period must be YYYY-MM" in by_period["2026-13"].error
    assert by_period["2026-10"].ok
    assert Invoice.objects.filter(period="2026-10", state=InvoiceState.AUDITED.value).exists()
    assert Invoice.objects.filter(period="2026-09", state=InvoiceState.RECEIVED.value).exists()


def test_influxdb_down_fails_the_period_and_leaves_its_invoices_received(audited_world):
    from web.invoices.audit import audit_periods
    from web.invoices.models import Invoice

    down = InfluxSettings(url=f"http://127.0.0.1:{free_tcp_port()}", database="x", timeout_s=1)
    with InfluxClient(down) as client:
        results = audit_periods(["2026-10"], client=client)
    assert not results[0].ok and results[0].error
    assert not Invoice.objects.filter(state=InvoiceState.AUDITED.value).exists()


def test_the_job_mirrors_audits_the_new_periods_and_the_current_months_once_a_day(settings, tmp_path, influx_db):
    """sync_and_audit: the store's new invoices mirrored and their periods audited, the current and previous
    month once a day (the mark in STATE_DIR) when they have invoices; a second run the same day audits nothing.

    Regression: November, which has no invoice, was audited too, and its costs (0 for every line) made it an
    audited month that had spent nothing: the demo's budgets, taken from the latest audited month, came out 0."""
    from web.invoices import jobs
    from web.invoices.models import Invoice

    url, dbname = influx_db
    use_config(settings, tmp_path, url=url, database=dbname)
    load_demo_inventory()
    import_demo_invoices(store_path(tmp_path))
    today = dt.date(2026, 11, 5)
    first = jobs.sync_and_audit(today=today)
    assert [r.period for r in first] == ["2026-09", "2026-10"] and all(r.ok for r in first)
    assert not Invoice.objects.exclude(state=InvoiceState.AUDITED.value).exists()
    assert (tmp_path / jobs.DAILY_MARK).read_text().strip() == "2026-11-05"
    assert jobs.sync_and_audit(today=today) == []
    assert [r.period for r in jobs.sync_and_audit(today=dt.date(2026, 11, 6))] == ["2026-10"]
    from web.finance.models import CostActual

    assert not CostActual.objects.filter(period="2026-11").exists()
