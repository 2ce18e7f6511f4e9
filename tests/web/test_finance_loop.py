"""The whole finance loop on the demo invoices, every part real (issue 12, Tests):

the demo invoice files (config/demo-invoices) dropped into the intake folder and collected → audited against the
session influxd → a finding → a dispute mailed with its evidence pack attached (PDF, XLSX) to the carrier's billing
contact through the real aiosmtpd (STARTTLS + AUTH) → a later invoice with a credit line quoting the dispute,
collected from the drop folder → proposed as the dispute's match → confirmed → dispute and finding closed → the
recovered amount returned by the finance dashboard's own "Recovered" panel query against InfluxDB after
``web.finance.jobs:write_kpis``.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from invoices_support import DEMO_INVOICES, load_demo_inventory, use_config
from notify_support import alerting_fixtures, write_alerts_yaml

from billing_etl.demo_credits import CreditNote, write_credit_note
from billing_etl.model import Period
from linewatch.choices import (
    AuditRule,
    CreditMatchState,
    DisputeOutcome,
    DisputeState,
    FindingState,
    IntakeOutcome,
    Role,
)
from linewatch.influx import InfluxClient, InfluxSettings

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook

pytestmark = [pytest.mark.django_db, pytest.mark.web_database, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tests" / "grafana") not in sys.path:  # the Grafana tests' macro expansion (grafana_macros.py)
    sys.path.append(str(REPO / "tests" / "grafana"))
DASHBOARD = json.loads((REPO / "grafana" / "dashboards" / "finance.json").read_text())
RECOVERED_PANEL = "Recovered ($currency)"
OCTOBER = Period(2026, 10)
# PAR-INET-1 billed 650.00 EUR by Orange Business against the contract's 600.00 (billing_etl/demo.py PLANTED).
CIRCUIT, CLAIM = "OBS-FR-INET-3302", Decimal("50.00")


@pytest.fixture
def world(settings: Any, tmp_path: Path, influx_db: tuple[str, str], smtp_factory: Any, webhook: Any,
          tls_cert: Any) -> dict[str, Any]:
    """The demo inventory in the app, a finance user, the carriers' billing contacts, the app's mail through the
    real SMTP server, InfluxDB the session's, an empty drop folder."""
    from web.demo import ensure_demo_users
    from web.demo_finance import ensure_billing_contacts

    url, dbname = influx_db
    use_config(settings, tmp_path / "var", url=url, database=dbname)
    smtp = smtp_factory("starttls")
    alerts = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0],
                               slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": alerts})
    load_demo_inventory()
    ensure_demo_users(tmp_path / "web-users.txt")
    ensure_billing_contacts()
    from django.contrib.auth import get_user_model

    folder = tmp_path / "intake"
    folder.mkdir()
    return {"smtp": smtp, "folder": folder, "influx": InfluxSettings(url=url, database=dbname),
            "finance": get_user_model().objects.get(username=Role.FINANCE.value)}


def _recovered_on_the_dashboard(client: InfluxClient, *, carrier: str, currency: str) -> float:
    """The finance dashboard's own "Recovered" stat query (finance.json), as Grafana sends it: the carrier chosen
    and "All" carriers, over the months up to now."""
    from grafana_macros import Selection, TimeRange, interpolate, query_targets

    [target] = [t for t in query_targets("finance.json", DASHBOARD) if t.panel == RECOVERED_PANEL]
    [variable] = [v for v in DASHBOARD["templating"]["list"] if v["name"] == "carrier"]
    window = TimeRange(from_ms=(OCTOBER.start_s - 86400 * 60) * 1000, to_ms=int(timezone.now().timestamp()) * 1000)
    sums = []
    for chosen in (Selection(variable, values=(carrier,)), Selection(variable, all=True)):
        rendered = chosen.render([carrier, "Colt", "Deutsche Telekom"])
        query = interpolate(target.query, time_range=window, interval="1d",
                            variables={"carrier": rendered, "department": ".*", "currency": currency})
        sums.append(sum(row[1] for s in client.query(query) for row in s["values"] if row[1] is not None))
    assert sums[0] == sums[1], f"one carrier's recovered amount differs from All's: {sums}"
    return sums[0]


def test_finding_to_dispute_to_credit_to_recovered_on_the_dashboard(world):
    from web.credits import jobs as credit_jobs
    from web.credits import services as credits
    from web.finance.jobs import write_kpis
    from web.findings import services as findings
    from web.findings.models import Dispute, Finding
    from web.intake.collect import collect_folder
    from web.invoices.audit import audit_periods
    from web.notify.outbox import deliver_due

    folder, finance, smtp = world["folder"], world["finance"], world["smtp"]

    # 1. the demo invoices arrive in the drop folder and are collected, then their months audited
    for path in sorted(DEMO_INVOICES.iterdir()):
        shutil.copyfile(path, folder / path.name)
    collected = collect_folder(folder, settle_s=0)
    assert {r.filename for r in collected if r.outcome in (IntakeOutcome.IMPORTED, IntakeOutcome.QUARANTINED)} >= {
        "orange-2026-10.xlsx", "colt-2026-10.csv"}
    with InfluxClient(world["influx"]) as client:
        audits = audit_periods([str(OCTOBER.previous()), str(OCTOBER)], client=client)
    assert all(a.ok for a in audits), [a.error for a in audits]

    # 2. the planted rate above contract is a new finding; finance disputes it and the carrier is mailed
    finding = Finding.objects.get(period=str(OCTOBER), rule=AuditRule.RATE_MISMATCH, circuit_id=CIRCUIT)
    assert (finding.state, finding.recoverable, finding.currency) == (FindingState.NEW, CLAIM, "EUR")
    dispute = findings.open_dispute([finding], finance)
    dispute = findings.send_dispute(dispute, finance)
    assert deliver_due().failed == []
    [mail] = [m for m in smtp.messages if dispute.reference in m["Subject"]]
    assert mail["To"].addresses[0].addr_spec == "billing@orangebusiness.example"
    files = {p.get_filename(): p.get_content() for p in mail.iter_attachments()}
    assert set(files) == {dispute.evidence_pdf_name, dispute.evidence_xlsx_name}
    assert files[dispute.evidence_pdf_name].startswith(b"%PDF")
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(files[dispute.evidence_xlsx_name])).sheetnames  # a workbook that opens

    with InfluxClient(world["influx"]) as client:
        write_kpis(client=client)
        assert _recovered_on_the_dashboard(client, carrier="Orange Business", currency="EUR") == 0

    # 3. a later invoice, the carrier's credit note quoting the dispute, comes in through the same folder
    sent_on = timezone.localtime(Dispute.objects.get(pk=dispute.pk).sent_at).date()
    note = CreditNote(carrier="Orange Business", reference=dispute.reference, circuit_id=CIRCUIT, amount=CLAIM,
                      currency="EUR", service_period=OCTOBER, issued=sent_on)
    write_credit_note(folder.parent / "outside", note)
    shutil.move(folder.parent / "outside" / note.file_name, folder / note.file_name)
    [credit_file] = collect_folder(folder, settle_s=0)
    assert (credit_file.filename, credit_file.outcome, credit_file.invoices) == (
        note.file_name, IntakeOutcome.IMPORTED, [note.number])
    assert (folder / "imported").is_dir() and not (folder / note.file_name).exists()

    # 4. matched to the dispute, confirmed by finance: the dispute and its finding closed with the amount
    credit_jobs.propose_matches()
    [match] = dispute.credit_matches.filter(state=CreditMatchState.PROPOSED)
    assert match.credit_row.invoice.number == note.number and match.credit_row.amount == -CLAIM
    assert any(dispute.reference in reason for reason in match.reasons), match.reasons
    credits.confirm(match, finance)
    dispute.refresh_from_db()
    finding.refresh_from_db()
    assert (dispute.state, dispute.outcome, dispute.recovered_amount) == (
        DisputeState.RESOLVED, DisputeOutcome.CREDITED_IN_FULL, CLAIM)
    assert finding.state == FindingState.RESOLVED

    # 5. the worker's KPI job writes it; the dashboard's own panel query returns the recovered amount
    with InfluxClient(world["influx"]) as client:
        write_kpis(client=client)
        assert _recovered_on_the_dashboard(client, carrier="Orange Business", currency="EUR") == pytest.approx(
            float(CLAIM))
