"""Payment reminders and the overdue alert of the invoices, queued in the outbox (web/notify) to the
``finance.receivers`` of alerts.yaml, each exactly once: the outbox key names the invoice, its due date, the
reminder and the receiver, so a job run twice, a restarted worker, or a second worker sends nothing twice.

- ``invoice:<pk>:payment_due:<due date>:<N>d:receiver:<name>`` (``payment_due``): the invoice is unpaid and due in N
  days or fewer, N one of ``finance.payment_reminder_days`` — the smallest N whose window has begun, so a worker that
  was down on day 7 sends the 7-day reminder late rather than two at once on day 1;
- ``invoice:<pk>:overdue:<due date>:receiver:<name>`` (``invoice_overdue``): unpaid the day after its due date.

A changed due date (the store replaced the invoice) reminds again. :func:`reminder_for` is the pure rule.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from billing_etl.model import amount_text
from linewatch.choices import InvoiceState, MessageKind
from web.invoices.labels import label
from web.invoices.models import Invoice
from web.invoices.workflow import UNPAID
from web.notify.outbox import Recipient, enqueue
from web.notify.templates import render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    kind: MessageKind
    days_left: int  # negative: overdue by that many days
    window_days: int | None  # the reminder's N (None: the overdue alert)

    def key(self, invoice_pk: int, due_date: dt.date, receiver: str) -> str:
        if self.kind is MessageKind.INVOICE_OVERDUE:
            return f"invoice:{invoice_pk}:overdue:{due_date.isoformat()}:receiver:{receiver}"
        return f"invoice:{invoice_pk}:payment_due:{due_date.isoformat()}:{self.window_days}d:receiver:{receiver}"


def reminder_for(due_date: dt.date, today: dt.date, reminder_days: Iterable[int]) -> Reminder | None:
    """What an unpaid invoice due on ``due_date`` calls for ``today``: the overdue alert after the due date, the
    payment reminder of the smallest N ≥ the days left (0 ≤ days left), else nothing."""
    days_left = (due_date - today).days
    if days_left < 0:
        return Reminder(MessageKind.INVOICE_OVERDUE, days_left, None)
    started = [n for n in reminder_days if n >= days_left]
    if not started:
        return None
    return Reminder(MessageKind.PAYMENT_DUE, days_left, min(started))


def _url(invoice: Invoice) -> str:
    base = getattr(settings, "LINEWATCH_WEB_BASE_URL", "") or ""
    return f"{base}{invoice.get_absolute_url()}"


def _context(invoice: Invoice, reminder: Reminder, language: str) -> dict[str, Any]:
    with translation.override(language):
        state = str(label(InvoiceState, invoice.state))
    return {
        "carrier": invoice.carrier.name, "invoice": invoice.number, "due_date": invoice.due_date.isoformat(),
        "days_left": reminder.days_left, "days_overdue": -reminder.days_left if reminder.days_left < 0 else 0,
        "amount": amount_text(invoice.payable_amount, invoice.currency), "currency": invoice.currency,
        "state": state, "approved": invoice.state in (InvoiceState.APPROVED, InvoiceState.SCHEDULED),
        "payment_date": invoice.payment_date.isoformat() if invoice.payment_date else "",
        "withheld": amount_text(invoice.withheld_amount, invoice.currency) if invoice.withheld_amount else "",
        "url": _url(invoice),
    }


def _recipients() -> list[Recipient]:
    recipients = []
    for name in settings.LINEWATCH.finance.receivers:
        try:
            recipients.append(Recipient.receiver(name))
        except ValueError as exc:  # a typo in finance.receivers must not stop the others
            log.error("finance.receivers %s: %s; invoice reminders are not sent to it", name, exc)
    return recipients


def send_reminders(today: dt.date | None = None) -> int:
    """Queue the reminders and overdue alerts due ``today`` (the application's date); returns how many were new."""
    today = today or timezone.localdate()
    recipients = _recipients()
    if not recipients:
        return 0
    days = settings.LINEWATCH.finance.payment_reminder_days
    horizon = today + dt.timedelta(days=max(days, default=0))
    queued = 0
    unpaid = Invoice.objects.filter(state__in=[s.value for s in UNPAID], due_date__lte=horizon)
    for invoice in unpaid.select_related("carrier").order_by("due_date", "pk"):
        reminder = reminder_for(invoice.due_date, today, days)
        if reminder is None:
            continue
        for recipient in recipients:
            key = reminder.key(invoice.pk, invoice.due_date, recipient.receiver_name)
            rendered = render(reminder.kind.value, language=recipient.language,
                              context=_context(invoice, reminder, recipient.language))
            queued += enqueue(key, to=[recipient], subject=rendered.subject, text=rendered.text,
                              html=rendered.html, language=recipient.language, about=invoice)
    return queued
