"""The evidence pack of a real dispute (web.findings.evidence.build_pack): findings recorded by the audit's service
(web.findings.services.record_audit), their invoice rows and contracts in the database, and a month of 5-minute
traffic and an outage in the session's InfluxDB 1.6.7 — the rows picked by charge key or circuit, the chart's
figures the member sums the ETL uses, the availability the ETL's; stored private and read back; a pack still made
(saying so) when InfluxDB is down. Also measures the build time of a pack of 5 findings and a month of data."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import stat
import time
from decimal import Decimal
from typing import Any

import pytest

from billing_etl.audit import Finding as EtlFinding
from linewatch.choices import AuditRule
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.servers.ports import free_tcp_port

# The module's fixture builds its world once (django_db_blocker, rolled back); the mark makes pytest-django set
# the test database up at all.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # a month of points written, a pack built: ~10 s
D = Decimal
PERIOD = "2026-11"
START = calendar.timegm((2026, 11, 1, 0, 0, 0))
END = calendar.timegm((2026, 12, 1, 0, 0, 0))
OUTAGE = START + 5 * 86400 + 3600  # SEL-MPLS-2 down 45 minutes from 2026-11-06 01:00 UTC
CARRIER = "Orange Business"


def _traffic(t: int, line: str, interface: str, in_bps: float, out_bps: float, *, oper: int = 1) -> Point:
    return Point("line_traffic", {"line": line, "device": "fra-edge-1", "interface": interface},
                 {"in_bps": in_bps, "out_bps": out_bps, "interval_s": 300.0, "oper_status": oper, "admin_status": 1,
                  "in_util_pct": in_bps / 1e6, "out_util_pct": out_bps / 1e6, "capacity_bps": 100_000_000},
                 t * 10**9)


def fra_in_bps(k: int, member: int) -> float:
    """FRA-INET-1 is a LAG of two members: 20–40 Mbit/s on the first, 5 Mbit/s on the second."""
    return (20e6 + (k % 100) * 0.2e6) if member == 0 else 5e6


def _points() -> list[Point]:
    points = []
    for k in range((END - START) // 300):
        t = START + 300 * k + 30
        points += [_traffic(t, "FRA-INET-1", "ge-0/0/0", fra_in_bps(k, 0), 8e6),
                   _traffic(t, "FRA-INET-1", "ge-0/0/1", fra_in_bps(k, 1), 2e6),
                   _traffic(t, "SEL-MPLS-2", "ge-0/0/2", 1e6, 1e6, oper=2 if OUTAGE <= t < OUTAGE + 2700 else 1)]
    return points


def _make_dispute() -> Any:
    """Five findings of one November invoice of Orange Business, recorded by the audit's service, disputed in
    Korean by a finance user."""
    from django.contrib.auth.models import Group, User

    from web.findings.models import Finding
    from web.findings.services import open_dispute, record_audit
    from web.inventory.models import Carrier, Contract, CreditTier, Department, Device, Line, LineMember, Site
    from web.invoices.models import Invoice, InvoiceRow

    carrier = Carrier.objects.create(name=CARRIER, currency="EUR")
    site, department = Site.objects.create(name="Frankfurt"), Department.objects.create(name="Network")
    device = Device.objects.create(name="fra-edge-1", address="127.0.0.1", snmp_version="2c", snmp_community="x",
                                   site=site)
    where = {"site": site, "department": department, "status": "active"}
    fra = Line.objects.create(name="FRA-INET-1", carrier=carrier, circuit_id="OBS-FR-77812", type="internet",
                              capacity_bps=100_000_000, **where)
    sel = Line.objects.create(name="SEL-MPLS-2", carrier=carrier, circuit_id="OBS-KR-1002", type="mpls",
                              capacity_bps=50_000_000, **where)
    for line, interfaces in ((fra, ("ge-0/0/0", "ge-0/0/1")), (sel, ("ge-0/0/2",))):
        for interface in interfaces:
            LineMember.objects.create(line=line, device=device, interface=interface)
    Contract.objects.create(line=fra, mrc=D("500"), commit_bps=20_000_000, billing_model="burstable_95th",
                            price_per_mbps=D("12.5"))
    sla = Contract.objects.create(line=sel, mrc=D("800"), sla_target_pct=D("99.9"))
    CreditTier.objects.create(contract=sla, below_pct=D("99.9"), credit_pct=D("10"))
    invoice = Invoice.objects.create(carrier=carrier, number="ORG-2026-11", invoice_date=dt.date(2026, 12, 1),
                                     due_date=dt.date(2026, 12, 31), currency="EUR", total=D("2881.25"),
                                     period=PERIOD, content_hash="0" * 64, source_file="orange-2026-11.xlsx")
    rows = [("OBS-FR-77812", fra, "monthly_recurring", D("550.00"), "k-fra-mrc"),
            ("OBS-FR-77812", fra, "usage", D("381.25"), "k-fra-usage"),
            ("OBS-KR-1002", sel, "monthly_recurring", D("800.00"), "k-sel-mrc"),
            ("OBS-KR-1002", sel, "one_time", D("150.00"), "k-sel-setup"),
            ("OBS-XX-0009", None, "monthly_recurring", D("1000.00"), "k-ghost"),
            ("OBS-FR-99999", None, "monthly_recurring", D("0.00"), "k-other")]  # no finding: not in the pack
    for idx, (circuit, line, charge_type, amount, key) in enumerate(rows):
        InvoiceRow.objects.create(invoice=invoice, idx=idx, circuit_id=circuit, line=line, charge_type=charge_type,
                                  period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30),
                                  amount=amount, currency="EUR", description=f"{charge_type} {circuit}",
                                  source_file="orange-2026-11.xlsx", source_row=idx + 2, charge_key=key)

    def finding(rule: AuditRule, line: str, circuit: str, amount: str, reason: str, key: str = "") -> EtlFinding:
        return EtlFinding(rule, CARRIER, "ORG-2026-11", line, circuit, D(amount), reason, currency="EUR",
                          charge_key=key)

    record_audit(PERIOD, [
        finding(AuditRule.RATE_MISMATCH, "FRA-INET-1", "OBS-FR-77812", "50.00", "MRC 550.00, contract 500.00",
                "k-fra-mrc"),
        finding(AuditRule.USAGE_MISMATCH, "FRA-INET-1", "OBS-FR-77812", "131.25", "burst billed 30.5 Mbit/s over "
                "the commit, measured 20 Mbit/s", "k-fra-usage"),
        finding(AuditRule.SLA_CREDIT_OWED, "SEL-MPLS-2", "OBS-KR-1002", "80.00", "availability 99.896 % below "
                "99.9 %: 10 % of the MRC"),
        finding(AuditRule.GHOST_CIRCUIT, "", "OBS-XX-0009", "1000.00", "circuit not in the inventory", "k-ghost"),
        finding(AuditRule.MONTH_OVER_MONTH, "SEL-MPLS-2", "OBS-KR-1002", "150.00", "one-time charge not ordered",
                "k-sel-setup"),
    ])
    found = list(Finding.objects.order_by("pk"))
    assert len(found) == 5
    user = User.objects.create_user("finance-evidence")
    user.groups.add(Group.objects.get(name="finance"))
    return open_dispute(found, user, language="ko")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, influxd, tmp_path_factory) -> dict[str, Any]:
    """One dispute, one month of points, and everything the tests look at, made once for the module (in a
    transaction rolled back at the end, in a database of the session influxd dropped at the end)."""
    from django.db import transaction
    from django.test import override_settings

    from web.findings.evidence import build_pack, open_file, store_pack

    dbname = f"lw_evidence_{free_tcp_port()}"
    influx = InfluxSettings(url=influxd.url, database=dbname)
    state = tmp_path_factory.mktemp("evidence-state")
    out: dict[str, Any] = {"state": state}
    with InfluxClient(influx) as client:
        client.ensure_database()
        points = _points()
        for i in range(0, len(points), 5000):
            client.write(encode_points(points[i:i + 5000]))
        try:
            with django_db_blocker.unblock(), override_settings(STATE_DIR=state), transaction.atomic():
                dispute = _make_dispute()
                out["reference"], out["claimed"] = dispute.reference, dispute.claimed_amount
                started, cpu = time.perf_counter(), time.process_time()
                out["pack"] = pack = build_pack(dispute, language="ko", client=client)
                out["build_s"] = time.perf_counter() - started
                out["build_cpu_s"] = time.process_time() - cpu  # this process's share (not influxd's)
                try:
                    open_file(dispute, "pdf")
                except FileNotFoundError as exc:
                    out["missing"] = str(exc)
                store_pack(dispute, pack)
                dispute.refresh_from_db()
                out["names"] = (dispute.evidence_pdf_name, dispute.evidence_xlsx_name)
                out["read_back"] = (open_file(dispute, "pdf"), open_file(dispute, "xlsx"))
                out["folder"] = state / "evidence" / f"dispute-{dispute.pk}"
                down = InfluxSettings(url=f"http://127.0.0.1:{free_tcp_port()}", database="x", timeout_s=1)
                with InfluxClient(down) as dead:
                    out["pack_down"] = build_pack(dispute, language="en", client=dead)
                transaction.set_rollback(True)
        finally:
            client.query(f'DROP DATABASE "{dbname}"', database="")
    return out


_SHEETS: dict[tuple[int, str], list[tuple[Any, ...]]] = {}


def _sheet(pack: Any, name: str) -> list[tuple[Any, ...]]:
    """A sheet's rows below the header (each workbook read once: the Usage sheet has 8,640 rows)."""
    from openpyxl import load_workbook

    if (id(pack), name) not in _SHEETS:
        wb = load_workbook(io.BytesIO(pack.xlsx), read_only=True)
        for ws in wb.worksheets:
            _SHEETS[id(pack), ws.title] = list(ws.iter_rows(min_row=2, values_only=True))
    return _SHEETS[id(pack), name]


def _pdf_text(pack: Any) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pack.pdf)) as pdf:
        return " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)


def test_the_pack_shows_the_rows_of_the_findings_by_charge_key_or_circuit(world):
    rows = _sheet(world["pack"], "Invoice lines")
    assert sorted((r[2], float(r[9])) for r in rows) == [
        ("OBS-FR-77812", 381.25), ("OBS-FR-77812", 550.0), ("OBS-KR-1002", 150.0), ("OBS-KR-1002", 800.0),
        ("OBS-XX-0009", 1000.0)]  # the SLA finding (no charge key) brings its circuit's rows; OBS-FR-99999 none


def test_the_usage_figures_are_the_member_sums_of_each_5_minute_bucket(world):
    usage = [r for r in _sheet(world["pack"], "Usage") if r[0] == "FRA-INET-1"]
    assert len(usage) == 8640
    assert [r[2] for r in usage[:3]] == pytest.approx([(fra_in_bps(k, 0) + fra_in_bps(k, 1)) / 1e6 for k in range(3)])
    assert usage[0][3] == pytest.approx(10.0) and usage[0][4] == 20.0  # out 8 + 2; the commit


def test_the_availability_is_the_etls_and_the_outage_is_in_the_figures(world):
    down = [r for r in _sheet(world["pack"], "Usage") if r[0] == "SEL-MPLS-2"]
    assert [r[1] for r in down] == [f"2026-11-06 01:{m:02d}" for m in range(0, 45, 5)]
    assert sum(r[5] for r in down) == pytest.approx(45.0)
    text = _pdf_text(world["pack"])
    assert "99.896 %" in text and "45 min" in text


def test_the_korean_pack_has_the_contract_in_words_and_the_claim(world):
    contract = _sheet(world["pack"], "Contract")
    assert ("SEL-MPLS-2", "OBS-KR-1002", "SLA 크레딧", "가용성 99.9 % 미만: 월 정액의 10 %") in contract
    text = _pdf_text(world["pack"])
    assert f"이의 제기 증빙 자료 {world['reference']}" in text and "계산 내역" in text
    assert world["claimed"] == D("1411.25") and "1,411.25 EUR" in text
    assert _sheet(world["pack"], "Computation")[-1][6] == 1411.25


def test_a_stored_pack_is_private_and_reads_back(world):
    pack = world["pack"]
    assert world["names"] == (pack.pdf_name, pack.xlsx_name) == (
        f"{world['reference']}-evidence-2026-11.pdf", f"{world['reference']}-evidence-2026-11.xlsx")
    assert world["read_back"] == (pack.pdf, pack.xlsx)
    folder = world["folder"]
    assert stat.S_IMODE(folder.stat().st_mode) == stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_no_stored_pack_is_a_clear_error(world):
    assert world["missing"] == f"dispute {world['reference']}: no evidence pdf stored"


def test_with_influxdb_down_the_pack_is_made_and_says_so(world):
    text = _pdf_text(world["pack_down"])
    assert text.count("The measurements could not be read") == 2  # both lines
    assert _sheet(world["pack_down"], "Usage") == []


def test_build_time_of_a_pack_of_five_findings_and_a_month_of_data(world, record_property):
    """Reported, and a generous bound (a shared test machine): the InfluxDB queries, matplotlib, WeasyPrint and
    the 8,640-row sheet."""
    record_property("evidence_pack_build_s", round(world["build_s"], 2))
    record_property("evidence_pack_build_cpu_s", round(world["build_cpu_s"], 2))
    print(f"\nevidence pack build: {world['build_s']:.2f} s, {world['build_cpu_s']:.2f} s CPU")
    assert world["build_s"] < 60
