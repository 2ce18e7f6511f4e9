"""Translated labels of the invoices' enumeration and moves (the values live in :mod:`linewatch.choices` and
:mod:`web.invoices.workflow`), registered with :mod:`web.labels`; importing this module fails if one has none."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linewatch.choices import ChargeType, InvoiceState
from web.labels import choices_of, label, register  # noqa: F401  (re-exported for the invoices' modules)

LABELS: dict[type[Enum], dict[Enum, Promise]] = {
    InvoiceState: {
        InvoiceState.RECEIVED: pgettext_lazy("invoice state", "Received"),
        InvoiceState.AUDITED: pgettext_lazy("invoice state", "Audited"),
        InvoiceState.APPROVED: pgettext_lazy("invoice state", "Approved"),
        InvoiceState.SCHEDULED: pgettext_lazy("invoice state", "Scheduled"),
        InvoiceState.PAID: pgettext_lazy("invoice state", "Paid"),
    },
    ChargeType: {
        ChargeType.MONTHLY_RECURRING: _("Monthly recurring"),
        ChargeType.ONE_TIME: _("One-time"),
        ChargeType.USAGE: _("Usage"),
        ChargeType.TAX: _("Tax"),
        ChargeType.SURCHARGE: _("Surcharge"),
        ChargeType.CREDIT: _("Credit"),
        ChargeType.LATE_FEE: _("Late fee"),
        ChargeType.ADJUSTMENT: _("Adjustment"),
    },
}

register(LABELS, where="web/invoices/labels.py")

# The moves' buttons and timeline words (web/invoices/workflow.py MOVES), checked complete at import.
MOVE_LABELS: dict[str, Promise] = {
    "audit": _("Audited"),
    "reopen": _("Rows replaced: to be audited again"),
    "approve": _("Approve"),
    "schedule": _("Schedule the payment"),
    "mark_paid": _("Mark paid"),
}


def _check_move_labels() -> None:
    from web.invoices.workflow import BY_NAME

    missing = sorted(set(BY_NAME) - set(MOVE_LABELS))
    if missing:
        raise RuntimeError(f"web/invoices/labels.py: no label for the moves {', '.join(missing)}")


_check_move_labels()
