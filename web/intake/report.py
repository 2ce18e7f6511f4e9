"""The outcome of a collected file, mailed to ``intake.report_to`` (MessageKind.INTAKE_REPORT) through the outbox.

One message per file and attempt (outbox key ``intake-report-<pk>-<attempt>``: a retried job never sends twice),
queued in the transaction that records the file. The report names the file, its carrier, the outcome and reason,
the invoices and every quarantined row; never a password or the mailbox's credentials.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import translation

from linewatch.choices import IntakeOutcome, IntakeSourceKind, MessageKind
from web.intake.labels import LABELS
from web.intake.models import IntakeFile

MAX_REPORTED_ROWS = 50  # quarantined rows listed in one report (the page has them all)


def report_key(row: IntakeFile) -> str:
    return f"intake-report-{row.pk}-{row.attempts}"


def context(row: IntakeFile, *, language: str) -> dict[str, Any]:
    with translation.override(language):
        outcome = str(LABELS[IntakeOutcome][IntakeOutcome(row.outcome)])
        source = str(LABELS[IntakeSourceKind][IntakeSourceKind(row.source)])
    message = row.message
    return {
        "filename": row.filename, "outcome": row.outcome, "outcome_label": outcome, "source": source,
        "carrier": row.carrier_name, "reason": row.reason, "invoices": list(row.invoices),
        "rows_imported": row.rows_imported, "rows_quarantined": row.rows_quarantined,
        "quarantine": list(row.quarantine)[:MAX_REPORTED_ROWS],
        "more_quarantined": max(0, len(row.quarantine) - MAX_REPORTED_ROWS),
        "sender": message.sender if message else "", "subject": message.subject if message else "",
        "sha256": row.sha256, "url": row.get_absolute_url(),
    }  # fmt: skip


def report(row: IntakeFile, *, now: dt.datetime) -> bool:
    """Queue the file's report to every ``intake.report_to`` address; True when one was queued."""
    from web.notify.outbox import Recipient, enqueue
    from web.notify.templates import render

    intake = settings.LINEWATCH.intake
    if not intake.report_to:
        return False
    language = intake.report_language
    message = render(MessageKind.INTAKE_REPORT, language=language, context=context(row, language=language))
    queued = enqueue(report_key(row), to=[Recipient.email(address, language=language) for address in intake.report_to],
                     subject=message.subject, text=message.text, html=message.html, language=language, about=row)
    if queued:
        IntakeFile.objects.filter(pk=row.pk).update(reported_at=now)
        row.reported_at = now
    return queued
