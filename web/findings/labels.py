"""Translated labels of the findings' and disputes' enumerations (the values live in :mod:`linewatch.choices`) and
of their moves (:mod:`web.findings.workflow`), registered with :mod:`web.labels`; importing this module fails if
one has none."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linewatch.choices import AuditRule, DisputeEventKind, DisputeOutcome, DisputeState, FindingState
from web.findings.workflow import MOVES
from web.labels import choices_of, label, register  # noqa: F401  (re-exported for the findings' modules)

LABELS: dict[type[Enum], dict[Enum, Promise]] = {
    AuditRule: {
        AuditRule.RATE_MISMATCH: _("Rate mismatch"),
        AuditRule.AFTER_TERMINATION: _("Billed after termination"),
        AuditRule.BEFORE_INSTALL: _("Billed before installation"),
        AuditRule.DUPLICATE_CHARGE: _("Duplicate charge"),
        AuditRule.GHOST_CIRCUIT: _("Unknown circuit"),
        AuditRule.UNBILLED_LINE: _("Line not billed"),
        AuditRule.PRORATION_MISMATCH: _("Proration mismatch"),
        AuditRule.LATE_FEE: _("Late fee"),
        AuditRule.USAGE_MISMATCH: _("Usage charge mismatch"),
        AuditRule.MONTH_OVER_MONTH: _("Month-over-month change"),
        AuditRule.SLA_CREDIT_OWED: _("SLA credit owed"),
        AuditRule.CONTRACT_EVENT: _("Contract event"),
        AuditRule.INVOICE_ARITHMETIC: _("Invoice arithmetic"),
        AuditRule.INVOICE_CONFLICT: _("Conflicting invoice"),
        AuditRule.INVOICE_NOT_IMPORTED: _("Invoice not imported"),
        AuditRule.VOICE_USAGE_MISMATCH: _("Call charges mismatch"),
        AuditRule.CALL_NOT_IN_CDRS: _("Billed call not in the call records"),
        AuditRule.CALL_ROUNDING: _("Call duration rounded beyond the increment"),
        AuditRule.CALL_WRONG_CLASS: _("Call rated in the wrong destination class"),
    },
    FindingState: {
        FindingState.NEW: pgettext_lazy("finding state", "New"),
        FindingState.ACCEPTED: pgettext_lazy("finding state", "Accepted"),
        FindingState.DISPUTED: pgettext_lazy("finding state", "Disputed"),
        FindingState.RESOLVED: pgettext_lazy("finding state", "Resolved"),
    },
    DisputeState: {
        DisputeState.DRAFT: pgettext_lazy("dispute state", "Draft"),
        DisputeState.SENT: pgettext_lazy("dispute state", "Sent"),
        DisputeState.ANSWERED: pgettext_lazy("dispute state", "Answered"),
        DisputeState.RESOLVED: pgettext_lazy("dispute state", "Resolved"),
    },
    DisputeOutcome: {
        DisputeOutcome.CREDITED_IN_FULL: _("Credited in full"),
        DisputeOutcome.CREDITED_IN_PART: _("Credited in part"),
        DisputeOutcome.REJECTED: pgettext_lazy("dispute outcome", "Rejected"),
    },
    DisputeEventKind: {
        DisputeEventKind.TRANSITION: _("State change"),
        DisputeEventKind.REMINDER: _("Reminder"),
        DisputeEventKind.NOTE: _("Note"),
    },
}

register(LABELS, where="web/findings/labels.py")

# The moves' buttons (web/findings/workflow.py MOVES), checked complete at import.
MOVE_LABELS: dict[str, Promise] = {
    "accept": _("Accept"),
    "reopen": _("Reopen"),
    "add_to_dispute": _("Open a dispute"),
    "resolve": pgettext_lazy("finding move", "Resolve"),
    "send": _("Send to the carrier"),
    "answer": _("Record the answer"),
    "resolve_dispute": pgettext_lazy("dispute move", "Resolve"),
}
_missing = sorted({m.name for m in MOVES} - set(MOVE_LABELS))
if _missing:
    raise RuntimeError(f"web/findings/labels.py: no button label for {', '.join(_missing)}")
