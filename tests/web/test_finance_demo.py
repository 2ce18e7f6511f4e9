"""The finance part of ``make run`` (web/demo_finance.py) on the demo's own invoices: the billing stage's files for
last month and the month before (billing_etl.demo.write_demo_invoices, as ``make run`` writes them), collected from
the drop folder and (Deutsche Telekom's PDFs) from a real dovecot mailbox, audited against the session influxd,
then disputes in each state, a credit note waiting as a proposed match, invoices approved, scheduled, paid and one
overdue, two budgets — and a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from invoices_support import load_demo_inventory, use_config

from billing_etl.demo import write_demo_invoices
from billing_etl.model import Period
from linewatch.choices import CreditMatchState, DisputeOutcome, DisputeState, IntakeSourceKind, InvoiceState

pytestmark = [pytest.mark.django_db, pytest.mark.web_database, pytest.mark.slow]


def _counts() -> dict[str, int]:
    from web.credits.models import CreditMatch
    from web.finance.models import Budget
    from web.findings.models import Dispute, Finding
    from web.intake.models import IntakeFile
    from web.invoices.models import Invoice, InvoiceEvent, InvoiceRow
    from web.notify.models import OutboxMessage

    return {model.__name__: model.objects.count() for model in (
        IntakeFile, Invoice, InvoiceRow, InvoiceEvent, Finding, Dispute, CreditMatch, Budget, OutboxMessage)}


@pytest.fixture
def demo_run(settings: Any, tmp_path: Path, influx_db: tuple[str, str]) -> dict[str, Any]:
    """The demo's inventory and users in the app, the billing stage's invoices in ``run/invoices``."""
    from web.demo import ensure_demo_users

    url, dbname = influx_db
    run_dir = tmp_path / "run"
    use_config(settings, run_dir / "var", url=url, database=dbname)
    load_demo_inventory()
    ensure_demo_users(run_dir / "web-users.txt")
    today = timezone.localdate()
    period = Period.containing(today).previous()
    write_demo_invoices(run_dir / "invoices", period)
    return {"run_dir": run_dir, "today": today, "period": period}


@pytest.fixture
def walked(demo_run: dict[str, Any]) -> dict[str, Any]:
    from web import demo_finance

    report = demo_finance.run(demo_run["run_dir"], today=demo_run["today"])
    return demo_run | {"report": report}


def _assert_collected_and_audited(walked: dict[str, Any]) -> None:
    from web.intake.models import IntakeFile
    from web.invoices.models import Invoice

    report, run_dir, period = walked["report"], walked["run_dir"], walked["period"]
    invoice_files = {p.name for p in (run_dir / "invoices").iterdir()}
    sources = dict(IntakeFile.objects.values_list("filename", "source"))
    assert invoice_files <= set(sources)
    assert {sources[name] for name in invoice_files if name.startswith("telekom-")} == {IntakeSourceKind.IMAP}
    assert {sources[name] for name in invoice_files if not name.startswith("telekom-")} == {IntakeSourceKind.FOLDER}
    assert list((run_dir / "intake" / "imported").iterdir())  # moved out of the drop folder
    assert {str(period), str(period.previous())} <= set(report.audited)
    assert not Invoice.objects.filter(state=InvoiceState.RECEIVED).exists()  # the credit note's month too


def _assert_a_dispute_in_each_state(walked: dict[str, Any]) -> None:
    from web.findings.models import Dispute
    from web.notify.models import OutboxMessage

    assert {(d.state, d.outcome or "") for d in Dispute.objects.all()} == {
        (DisputeState.DRAFT.value, ""), (DisputeState.SENT.value, ""), (DisputeState.ANSWERED.value, ""),
        (DisputeState.RESOLVED.value, DisputeOutcome.CREDITED_IN_FULL.value),
        (DisputeState.RESOLVED.value, DisputeOutcome.CREDITED_IN_PART.value),
        (DisputeState.RESOLVED.value, DisputeOutcome.REJECTED.value),
    }
    answered = Dispute.objects.get(state=DisputeState.ANSWERED)
    assert answered.carrier_reference and answered.carrier_answer
    part = Dispute.objects.get(outcome=DisputeOutcome.CREDITED_IN_PART)
    assert 0 < part.recovered_amount < part.claimed_amount
    for dispute in Dispute.objects.exclude(state=DisputeState.DRAFT):  # mailed with the evidence pack
        msg = OutboxMessage.objects.get(key=f"dispute-notice-{dispute.pk}")
        assert "billing@" in str(msg.recipients)
        assert sorted(a.filename for a in msg.attachments.all()) == sorted(
            [dispute.evidence_pdf_name, dispute.evidence_xlsx_name])


def _assert_the_credit_note_waits_for_the_sent_dispute(walked: dict[str, Any]) -> None:
    from web.credits.models import CreditMatch
    from web.findings.models import Dispute

    sent = Dispute.objects.get(state=DisputeState.SENT)
    [match] = CreditMatch.objects.filter(state=CreditMatchState.PROPOSED)
    assert match.dispute == sent and sent.reference in match.credit_row.description
    note = match.credit_row.invoice
    assert note.invoice_date == walked["today"] >= timezone.localtime(sent.sent_at).date()
    assert note.due_date == walked["today"] + dt.timedelta(days=30)
    assert walked["report"].credit_note.endswith(f"({sent.reference})") and walked["report"].proposed_matches == 1


def _assert_invoices_paid_scheduled_and_one_overdue(walked: dict[str, Any]) -> None:
    from web.invoices.models import Invoice

    invoices = list(Invoice.objects.all())
    assert [i.number for i in invoices if i.overdue] == walked["report"].invoices["overdue"]
    paid = [i for i in invoices if i.state == InvoiceState.PAID]
    assert paid and all(i.paid_on <= i.due_date and i.payment_reference for i in paid)
    [withheld] = [i for i in invoices if i.withhold_disputed]
    assert withheld.state == InvoiceState.SCHEDULED and withheld.withheld_amount > 0
    assert withheld.amount_to_pay == withheld.total - withheld.withheld_amount
    assert withheld.payment_date <= withheld.due_date
    assert any(i.state == InvoiceState.APPROVED and not i.overdue for i in invoices)
    assert any(i.state == InvoiceState.AUDITED for i in invoices)  # left for finance to approve in the demo


def _assert_two_department_budgets(walked: dict[str, Any]) -> None:
    from web.finance.models import Budget

    budgets = list(Budget.objects.all())
    assert len(budgets) == 2 and {b.year for b in budgets} == {walked["today"].year}
    assert all(b.department_id for b in budgets)


def test_the_demo_shows_the_finance_workflow_in_every_state(walked) -> None:
    """One walk (it takes a while: the ETL, five evidence packs), each part of what the demo shows checked."""
    assert walked["report"].failed == []
    _assert_collected_and_audited(walked)
    _assert_a_dispute_in_each_state(walked)
    _assert_the_credit_note_waits_for_the_sent_dispute(walked)
    _assert_invoices_paid_scheduled_and_one_overdue(walked)
    _assert_two_department_budgets(walked)


def test_a_second_run_in_the_same_run_directory_adds_nothing(walked):
    from web import demo_finance

    before = _counts()
    again = demo_finance.run(walked["run_dir"], today=walked["today"])
    assert _counts() == before
    assert again.failed == [] and not (again.collected or again.disputes or again.credit_note or again.invoices
                                       or again.budgets)
    assert demo_finance.summary(again) == ["nothing new (already walked through in this run directory)"]


def test_a_finance_step_that_fails_is_reported_and_the_rest_goes_on(demo_run, monkeypatch):
    from web import demo_finance

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the carrier's billing contact cannot be created")

    monkeypatch.setattr(demo_finance, "ensure_billing_contacts", broken)
    report = demo_finance.run(demo_run["run_dir"], today=demo_run["today"])
    assert report.failed[0] == "billing contacts: RuntimeError: the carrier's billing contact cannot be created"
    assert report.audited  # the intake and the audit still ran
    assert any(line.startswith("FAILED billing contacts") for line in demo_finance.summary(report))


def test_the_finance_stage_waits_for_the_billing_export_and_gives_up_when_the_demo_stops(tmp_path, capsys):
    """No export of last month yet and the demo stopping: the stage returns at once, saying why (no walk)."""
    import threading
    import time
    from types import SimpleNamespace

    from web.demo import finance_stage

    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    finance_stage(SimpleNamespace(run_dir=tmp_path, stop_event=stop, settings=None))
    assert time.monotonic() - started < 5
    assert "not written by the billing stage; the finance demo did not run" in capsys.readouterr().out
