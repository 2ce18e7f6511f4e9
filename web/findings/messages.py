"""The disputes' mail to the carrier's billing contacts, rendered from the editable templates (web/notify
``render``: ``dispute_notice`` and ``dispute_reminder``, the carrier's own template row first) in the dispute's
language. The services queue them (outbox keys ``dispute-notice-<pk>`` and ``dispute-reminder-<pk>-<round>``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation

from billing_etl.model import amount_text
from linewatch.choices import AuditRule, MessageKind
from web.faults.carrier_mail import format_moment
from web.findings.labels import label
from web.findings.models import Dispute


def _findings(dispute: Dispute) -> list[dict[str, str]]:
    with translation.override(dispute.language):
        return [{
            "id": f.display_id, "rule": str(label(AuditRule, f.rule)), "period": f.period,
            "invoice": f.invoice_number, "circuit_id": f.circuit_id, "line": f.line_name,
            "amount": amount_text(f.recoverable, f.currency), "currency": f.currency, "reason": f.reason,
        } for f in dispute.findings.order_by("period", "pk")]


def context(dispute: Dispute, *, now: dt.datetime | None = None, round_: int = 0) -> dict[str, Any]:
    invoices = sorted({f.invoice_number for f in dispute.findings.all() if f.invoice_number})
    sent = dispute.sent_at
    return {
        "reference": dispute.reference, "carrier": dispute.carrier.name, "period": dispute.period,
        "claimed": amount_text(dispute.claimed_amount, dispute.currency), "currency": dispute.currency,
        "invoices": invoices, "findings": _findings(dispute),
        "attachments": [n for n in (dispute.evidence_pdf_name, dispute.evidence_xlsx_name) if n],
        "sent_at": format_moment(sent) if sent else "", "carrier_reference": dispute.carrier_reference,
        "answered": bool(dispute.answered_at), "round": round_,
        "days_open": (now - sent).days if now and sent else 0,
    }


def notice(dispute: Dispute) -> Any:
    from web.notify.templates import render

    return render(MessageKind.DISPUTE_NOTICE.value, language=dispute.language, carrier=dispute.carrier,
                  context=context(dispute))


def reminder(dispute: Dispute, *, round_: int, now: dt.datetime) -> Any:
    from web.notify.templates import render

    return render(MessageKind.DISPUTE_REMINDER.value, language=dispute.language, carrier=dispute.carrier,
                  context=context(dispute, now=now, round_=round_))
