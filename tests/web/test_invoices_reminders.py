"""Payment reminders and the overdue alert: the pure rule (which reminder on which day), then the real thing through
the outbox to the finance receivers on the real SMTP server and Slack sink, exactly once across repeated runs and
a restarted worker (a fresh job list, the same database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from invoices_support import day, make_invoice
from notify_support import alerting_fixtures, write_alerts_yaml

from linewatch.choices import MessageKind
from web.invoices.reminders import reminder_for

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook

DUE = day("2026-12-21")
P, O = MessageKind.PAYMENT_DUE, MessageKind.INVOICE_OVERDUE


@pytest.mark.parametrize(("today", "days", "expected"), [
    ("2026-12-13", [7, 1], None),  # 8 days left: nothing yet
    ("2026-12-14", [7, 1], (P, 7, 7)),
    ("2026-12-17", [7, 1], (P, 4, 7)),  # the worker was down on day 7: sent late, once
    ("2026-12-20", [7, 1], (P, 1, 1)),
    ("2026-12-21", [7, 1], (P, 0, 1)),  # due today
    ("2026-12-22", [7, 1], (O, -1, None)),  # the day after: overdue
    ("2027-01-30", [7, 1], (O, -40, None)),
    ("2026-12-20", [], None),  # no reminders configured: only the overdue alert
    ("2026-12-22", [], (O, -1, None)),
    ("2026-12-14", [1, 7, 3], (P, 7, 7)),  # any order
    ("2026-12-18", [1, 7, 3], (P, 3, 3)),
], ids=lambda v: f"{v[0].value}-{v[1]}d" if isinstance(v, tuple) else str(v))
def test_which_reminder_an_unpaid_invoice_calls_for_on_a_day(today, days, expected):
    got = reminder_for(DUE, day(today), days)
    assert (got.kind, got.days_left, got.window_days) == expected if expected else got is None


def test_reminder_keys_name_the_invoice_due_date_window_and_receiver():
    assert reminder_for(DUE, day("2026-12-14"), [7]).key(5, DUE, "finance-mail") == \
        "invoice:5:payment_due:2026-12-21:7d:receiver:finance-mail"
    assert reminder_for(DUE, day("2026-12-22"), [7]).key(5, DUE, "finance-mail") == \
        "invoice:5:overdue:2026-12-21:receiver:finance-mail"


@pytest.fixture
def finance_alerts(tmp_path: Any, settings: Any, smtp_factory: Any, webhook: Any, tls_cert: Any) -> dict[str, Any]:
    """alerts.yaml with an email receiver (Korean) on the real SMTP server and a Slack one on the sink;
    ``finance.receivers`` names both, reminders 7 and 1 days before."""
    smtp = smtp_factory("starttls")
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0],
                             slack_url=webhook.url)
    lw = settings.LINEWATCH
    finance = lw.finance.model_copy(update={"receivers": ["noc-email", "oncall-slack"],
                                            "payment_reminder_days": [7, 1]})
    settings.LINEWATCH = lw.model_copy(update={"alerts_path": path, "finance": finance})
    return {"smtp": smtp, "slack": webhook}


@pytest.fixture
def colt(db: Any) -> Any:
    from web.inventory.models import Carrier

    return Carrier.objects.create(name="Colt", currency="EUR")


def _run_reminder_job() -> None:
    """What a worker does: collect the apps' jobs (a restarted worker does this afresh) and run ours."""
    from web.notify.worker import collect_jobs, run_job

    job = next(j for j in collect_jobs() if j.path == "web.invoices.jobs:send_payment_reminders")
    assert run_job(job)


@pytest.mark.django_db
@pytest.mark.web_database
def test_reminders_and_the_overdue_alert_are_delivered_once_across_runs_and_a_restart(finance_alerts, colt):
    from django.utils import timezone

    from web.notify.models import OutboxMessage
    from web.notify.outbox import deliver_due

    today = timezone.localdate()
    soon = make_invoice(colt, "C-SOON", due=(today + dt.timedelta(days=1)).isoformat(), total="1234.50")
    late = make_invoice(colt, "C-LATE", due=(today - dt.timedelta(days=1)).isoformat(), total="99.00")
    make_invoice(colt, "C-LATER", due=(today + dt.timedelta(days=30)).isoformat())  # no reminder yet
    _run_reminder_job()
    assert sorted(OutboxMessage.objects.values_list("key", flat=True)) == sorted([
        f"invoice:{soon.pk}:payment_due:{soon.due_date}:1d:receiver:noc-email",
        f"invoice:{soon.pk}:payment_due:{soon.due_date}:1d:receiver:oncall-slack",
        f"invoice:{late.pk}:overdue:{late.due_date}:receiver:noc-email",
        f"invoice:{late.pk}:overdue:{late.due_date}:receiver:oncall-slack"])
    report = deliver_due()
    assert len(report.delivered) == 4 and not report.failed
    _run_reminder_job()  # the next run of the same worker
    _run_reminder_job()  # a restarted worker: a fresh job list, the same database
    assert OutboxMessage.objects.count() == 4 and deliver_due().delivered == []

    smtp, slack = finance_alerts["smtp"], finance_alerts["slack"]
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert len(subjects) == 2  # the Korean mail receiver
    assert any("지급 기한 초과" in s and "C-LATE" in s for s in subjects)
    assert any("C-SOON" in s and "1,234.50 EUR" in s for s in subjects)
    texts = [b["text"] for b in slack.bodies]
    assert len(texts) == 2 and any("Overdue: Colt invoice C-LATE" in t for t in texts)
    assert any("Payment due in 1 day(s): Colt invoice C-SOON" in t for t in texts)


@pytest.mark.django_db
def test_a_paid_invoice_gets_no_reminder(finance_alerts, colt, user_with_role):
    from django.utils import timezone

    from web.invoices import reminders, services

    finance = user_with_role("finance")
    invoice = make_invoice(colt, "C-PAID", due=(timezone.localdate() + dt.timedelta(days=1)).isoformat())
    invoice = services.approve(invoice, finance, withhold_disputed=False)
    services.mark_paid(invoice, finance, paid_on=timezone.localdate(), reference="PAY-1")
    assert reminders.send_reminders() == 0


@pytest.mark.django_db
def test_a_new_due_date_reminds_again(finance_alerts, colt):
    from django.utils import timezone

    from web.invoices import reminders
    from web.invoices.models import Invoice

    today = timezone.localdate()
    invoice = make_invoice(colt, "C-MOVED", due=(today + dt.timedelta(days=1)).isoformat())
    assert reminders.send_reminders() == 2
    Invoice.objects.filter(pk=invoice.pk).update(due_date=today + dt.timedelta(days=2))  # the store replaced it
    assert reminders.send_reminders() == 2 and reminders.send_reminders() == 0


@pytest.mark.django_db
def test_an_unknown_finance_receiver_is_logged_and_the_others_still_get_theirs(finance_alerts, colt, settings,
                                                                              caplog):
    from django.utils import timezone

    from web.invoices import reminders

    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={"finance": lw.finance.model_copy(
        update={"receivers": ["no-such-receiver", "noc-email"]})})
    make_invoice(colt, "C-1", due=(timezone.localdate() - dt.timedelta(days=3)).isoformat(),
                 total=str(Decimal("10.00")))
    assert reminders.send_reminders() == 1
    assert "finance.receivers no-such-receiver" in caplog.text
