"""Disputes (web/findings/services.py) on the findings of the real audit: the demo inventory, contracts and invoices
imported into a real ETL store, mirrored (web.invoices.sync) and audited (web.invoices.audit.audit_periods, the
ETL's run_period against the session's InfluxDB 1.6.7, which calls record_audit). A dispute is opened from
findings, sent — the evidence pack built and mailed through the outbox and the worker's delivery to the real
aiosmtpd (STARTTLS + AUTH) with the PDF and XLSX attached —, answered, resolved; reminders go out once per round.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from invoices_support import import_demo_invoices, load_demo_inventory, store_path, use_config
from notify_support import alerting_fixtures, write_alerts_yaml

from linewatch.choices import DisputeOutcome, DisputeState, FindingState
from linewatch.influx import InfluxClient

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]
ROLES = ("viewer", "noc", "engineer", "finance", "admin")
PERIOD = "2026-10"
ORANGE = "Orange Business"
D = Decimal


@pytest.fixture
def people(user_with_role) -> dict[str, Any]:
    return {role: user_with_role(role) for role in ROLES}


@pytest.fixture
def world(settings, tmp_path, influx_db, smtp_factory, tls_cert, webhook) -> dict[str, Any]:
    """The demo world audited for October; the carriers' billing contacts; the outbox mailing the real SMTP."""
    from web.inventory.models import Carrier, Contact
    from web.invoices.audit import audit_periods
    from web.invoices.sync import sync_store

    url, dbname = influx_db
    use_config(settings, tmp_path, url=url, database=dbname)
    smtp = smtp_factory("starttls")
    alerts = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0],
                               slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": alerts})
    load_demo_inventory()
    import_demo_invoices(store_path(tmp_path))
    sync_store()
    with InfluxClient(settings.LINEWATCH.influx) as client:
        [result] = audit_periods([PERIOD], client=client)
    assert result.ok, result.error
    for carrier in Carrier.objects.all():
        Contact.objects.create(carrier=carrier, role="billing", name=f"{carrier.name} billing",
                               email=f"billing@{carrier.name.split()[0].lower()}.example")
    return {"smtp": smtp, "state_dir": tmp_path, "report": result.report}


def findings(**filters: Any) -> list[Any]:
    from web.findings.models import Finding

    return list(Finding.objects.filter(period=PERIOD, **filters).order_by("pk"))


def recoverable_of(carrier: str) -> list[Any]:
    return [f for f in findings(carrier__name=carrier, state=FindingState.NEW) if f.recoverable > 0]


def test_the_audit_recorded_every_finding_once_and_a_re_audit_adds_none(world):
    from billing_etl.finding_ids import finding_key
    from web.findings.services import record_audit

    report = world["report"]
    assert {f.key for f in findings()} == {finding_key(f, PERIOD) for f in report.findings}
    assert all(f.present and f.state == FindingState.NEW for f in findings())
    again = record_audit(PERIOD, report.findings)
    assert again.new == [] and again.suppressed == [] and len(again.refreshed) == len(report.findings)
    linked = [f for f in findings() if f.invoice_number and f.carrier_id]
    assert linked and all(f.invoice is not None and f.invoice.number == f.invoice_number for f in linked)


def test_open_dispute_claims_the_recoverable_sum_and_moves_the_findings(world, people):
    from web.findings.services import open_dispute

    chosen = recoverable_of(ORANGE)[:2]
    dispute = open_dispute(chosen, people["finance"])
    assert dispute.state == DisputeState.DRAFT and dispute.reference == f"DSP-{dispute.pk}"
    assert dispute.claimed_amount == sum(f.recoverable for f in chosen) and dispute.currency == chosen[0].currency
    assert dispute.period == PERIOD and dispute.language == "en"  # no carrier template: the app's language
    assert {f.state for f in findings(dispute=dispute)} == {FindingState.DISPUTED}
    [event] = dispute.events.all()
    assert (event.target, event.actor_name) == (DisputeState.DRAFT, people["finance"].username)


def test_a_carriers_korean_dispute_template_makes_the_dispute_korean(world, people):
    from web.findings.services import open_dispute
    from web.notify.models import MessageTemplate

    [first] = recoverable_of(ORANGE)[:1]
    MessageTemplate.objects.create(kind="dispute_notice", language="ko", carrier=first.carrier,
                                   subject="요금 이의 제기 {{ reference }}", body="{{ claimed }} {{ currency }}")
    assert open_dispute([first], people["finance"]).language == "ko"


@pytest.mark.parametrize(
    ("case", "field"),
    [
        pytest.param("two-carriers", "findings", id="two-carriers"),
        pytest.param("nothing", "findings", id="no-finding"),
        pytest.param("zero-claim", "claimed_amount", id="zero-claim"),
        pytest.param("bad-language", "language", id="bad-language"),
    ],
)
def test_open_dispute_refuses_with_the_field(world, people, case, field):
    from web.findings.services import open_dispute

    orange = recoverable_of(ORANGE)[:1]
    others = [f for f in findings(state=FindingState.NEW) if f.carrier_id and f.carrier.name != ORANGE][:1]
    chosen, kw = {"two-carriers": (orange + others, {}), "nothing": ([], {}),
                  "zero-claim": (orange, {"claimed_amount": D(0)}),
                  "bad-language": (orange, {"language": "fr"})}[case]
    with pytest.raises(ValidationError) as err:
        open_dispute(chosen, people["finance"], **kw)
    assert field in err.value.message_dict
    assert all(f.state == FindingState.NEW for f in findings(pk__in=[f.pk for f in orange]))


@pytest.mark.parametrize("role", ["viewer", "noc", "engineer", "admin"])
def test_only_finance_opens_a_dispute(world, people, role):
    from web.findings.services import NotPermitted, open_dispute

    with pytest.raises(NotPermitted):
        open_dispute(recoverable_of(ORANGE)[:1], people[role])


def test_an_accepted_finding_cannot_be_disputed(world, people):
    from web.findings.services import NotAvailable, accept, open_dispute

    [first] = recoverable_of(ORANGE)[:1]
    accept(first, people["finance"], reason="right after all")
    with pytest.raises(NotAvailable):
        open_dispute([first], people["finance"])


def test_a_draft_cannot_be_answered_or_resolved(world, people):
    from web.findings.services import NotAvailable, open_dispute, record_answer, resolve_dispute

    dispute = open_dispute(recoverable_of(ORANGE)[:1], people["finance"])
    with pytest.raises(NotAvailable):
        record_answer(dispute, people["finance"], reference="X", answer="we check")
    with pytest.raises(NotAvailable):
        resolve_dispute(dispute, people["finance"], outcome=DisputeOutcome.REJECTED, recovered_amount=D(0))


def _send(world: dict[str, Any], people: dict[str, Any], *, now: dt.datetime | None = None) -> Any:
    from web.findings.services import open_dispute, send_dispute

    dispute = open_dispute(recoverable_of(ORANGE), people["finance"], now=now)
    return send_dispute(dispute, people["finance"], now=now)


def test_a_sent_dispute_reaches_the_carriers_billing_contact_with_the_pdf_and_xlsx(world, people):
    """Through the worker's delivery job (web.notify.jobs:deliver_outbox) to the real SMTP server."""
    from billing_etl.model import amount_text
    from web.findings.evidence import open_file
    from web.notify.worker import Job, run_job

    dispute = _send(world, people)
    assert dispute.state == DisputeState.SENT and dispute.sent_at is not None
    assert run_job(Job(path="web.notify.jobs:deliver_outbox", interval_s=5, app="notify"))
    smtp = world["smtp"]
    [mail] = [m for m, r in zip(smtp.messages, smtp.recipients, strict=True) if "billing@orange.example" in r]
    assert dispute.reference in mail["Subject"]
    assert amount_text(dispute.claimed_amount, dispute.currency) in mail["Subject"]
    parts = list(mail.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        (dispute.evidence_pdf_name, "application/pdf"),
        (dispute.evidence_xlsx_name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    pdf, xlsx = (p.get_content() for p in parts)
    assert pdf == open_file(dispute, "pdf") and pdf.startswith(b"%PDF") and len(pdf) > 5_000
    assert xlsx == open_file(dispute, "xlsx") and xlsx.startswith(b"PK") and len(xlsx) > 2_000
    body = mail.get_body(preferencelist=("plain",)).get_content()
    for finding in findings(dispute=dispute):
        assert finding.display_id in body
    event = dispute.events.get(transition="send")
    assert event.data["outbox_key"] == f"dispute-notice-{dispute.pk}"
    assert event.data["attachments"] == [dispute.evidence_pdf_name, dispute.evidence_xlsx_name]


def test_a_dispute_without_a_billing_contact_is_not_sent(world, people):
    from web.findings.services import open_dispute, send_dispute
    from web.inventory.models import Contact

    Contact.objects.filter(role="billing").delete()
    dispute = open_dispute(recoverable_of(ORANGE)[:1], people["finance"])
    with pytest.raises(ValidationError) as err:
        send_dispute(dispute, people["finance"])
    assert "carrier" in err.value.message_dict
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.DRAFT


def test_answer_then_resolve_in_part_resolves_the_findings(world, people):
    from web.findings.services import record_answer, resolve_dispute

    dispute = _send(world, people)
    dispute = record_answer(dispute, people["finance"], reference="OBS-CLM-5521", answer="credit on next invoice")
    assert (dispute.state, dispute.carrier_reference) == (DisputeState.ANSWERED, "OBS-CLM-5521")
    part = dispute.claimed_amount / 2
    dispute = resolve_dispute(dispute, people["finance"], outcome=DisputeOutcome.CREDITED_IN_PART,
                              recovered_amount=part, note="half credited")
    assert dispute.state == DisputeState.RESOLVED and dispute.recovered_amount == part
    assert dispute.outcome == DisputeOutcome.CREDITED_IN_PART and dispute.pending_amount == 0
    assert {f.state for f in findings(dispute=dispute)} == {FindingState.RESOLVED}
    assert [e.target for e in dispute.events.all()] == ["draft", "sent", "answered", "resolved"]


@pytest.mark.parametrize(
    ("outcome", "recovered", "field"),
    [
        pytest.param(DisputeOutcome.REJECTED, "1.00", "recovered_amount", id="rejected-with-money"),
        pytest.param(DisputeOutcome.CREDITED_IN_FULL, "0", "recovered_amount", id="credit-of-nothing"),
        pytest.param(DisputeOutcome.CREDITED_IN_PART, "-1", "recovered_amount", id="negative"),
        pytest.param(DisputeOutcome.CREDITED_IN_PART, "claim", "outcome", id="part-that-covers-the-claim"),
    ],
)
def test_resolve_refuses_an_outcome_that_does_not_fit_the_amount(world, people, outcome, recovered, field):
    from web.findings.services import resolve_dispute

    dispute = _send(world, people)
    amount = dispute.claimed_amount if recovered == "claim" else D(recovered)
    with pytest.raises(ValidationError) as err:
        resolve_dispute(dispute, people["finance"], outcome=outcome, recovered_amount=amount)
    assert field in err.value.message_dict
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.SENT


def test_the_credit_matching_resolves_a_sent_dispute_as_linewatch(world, people):
    from web.findings.services import resolve_dispute

    dispute = _send(world, people)
    dispute = resolve_dispute(dispute, None, outcome=DisputeOutcome.CREDITED_IN_FULL,
                              recovered_amount=dispute.claimed_amount)
    event = dispute.events.get(transition="resolve_dispute")
    assert event.actor_name == "linewatch" and event.data["outcome"] == "credited_in_full"


def test_reminders_go_out_once_per_round_across_worker_runs(world, people, settings):
    """finance.dispute_reminder_days = 14: nothing at 13 days, one reminder at 15 days — the worker's job run
    twice (a second worker run, or one after a restart: nothing is kept in memory) queues it once —, a second
    round at 29 days; none once resolved."""
    from web.findings.jobs import send_reminders
    from web.findings.services import resolve_dispute
    from web.notify.models import OutboxMessage
    from web.notify.worker import Job, run_job

    sent_at = timezone.now() - dt.timedelta(days=15)
    dispute = _send(world, people, now=sent_at)
    job = Job(path="web.findings.jobs:send_reminders", interval_s=3600, app="findings")

    def reminders() -> list[str]:
        return sorted(OutboxMessage.objects.filter(key__startswith=f"dispute-reminder-{dispute.pk}-")
                      .values_list("key", flat=True))

    assert send_reminders(now=sent_at + dt.timedelta(days=13)) == 0 and reminders() == []
    assert run_job(job) and run_job(job)  # the worker, now (15 days after sending), twice
    assert reminders() == [f"dispute-reminder-{dispute.pk}-1"]
    assert send_reminders(now=sent_at + dt.timedelta(days=15, hours=2)) == 0
    assert send_reminders(now=sent_at + dt.timedelta(days=29)) == 1
    assert send_reminders(now=sent_at + dt.timedelta(days=29)) == 0
    assert reminders() == [f"dispute-reminder-{dispute.pk}-1", f"dispute-reminder-{dispute.pk}-2"]
    assert dispute.events.filter(kind="reminder").count() == 2
    message = OutboxMessage.objects.get(key=f"dispute-reminder-{dispute.pk}-1")
    assert dispute.reference in message.subject and message.recipients[0]["address"] == "billing@orange.example"
    assert "15" in message.text  # days open
    resolve_dispute(dispute, people["finance"], outcome=DisputeOutcome.REJECTED, recovered_amount=D(0))
    assert send_reminders(now=sent_at + dt.timedelta(days=60)) == 0
