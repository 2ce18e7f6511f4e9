"""Labels of the fault enumerations, registered with :data:`web.labels.LABELS` (Korean: this app's catalogue)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linewatch.choices import FaultCause, FaultKind, SlaClaimState, TicketEventKind, TicketState
from web.labels import choices_of, register

FAULT_LABELS = {
    FaultKind: {
        FaultKind.LINE_DOWN: _("Line down"),
        FaultKind.NO_DATA: _("No data"),
        FaultKind.SATURATION: _("Saturation"),
        FaultKind.DEGRADED: _("Degraded"),
        FaultKind.OTHER: pgettext_lazy("fault kind", "Other"),
    },
    FaultCause: {
        FaultCause.CARRIER: _("Carrier network"),
        FaultCause.CPE: _("Customer premises equipment"),
        FaultCause.POWER: _("Power"),
        FaultCause.CONFIGURATION: _("Configuration"),
        FaultCause.CAPACITY: _("Capacity"),
        FaultCause.CABLING: _("Cabling"),
        FaultCause.THIRD_PARTY: _("Third party"),
        FaultCause.UNKNOWN: _("Unknown"),
    },
    TicketState: {
        TicketState.OPEN: pgettext_lazy("ticket state", "Open"),
        TicketState.CARRIER_NOTIFIED: _("Carrier notified"),
        TicketState.IN_PROGRESS: _("In progress"),
        TicketState.RESOLVED: _("Resolved"),
        TicketState.CLOSED: _("Closed"),
    },
    TicketEventKind: {
        TicketEventKind.OPENED: _("Ticket opened"),
        TicketEventKind.ALERT_FIRED: _("Alert fired"),
        TicketEventKind.ALERT_RESOLVED: _("Alert resolved"),
        TicketEventKind.COMMENT: _("Comment"),
        TicketEventKind.STATE_CHANGE: _("State changed"),
        TicketEventKind.CARRIER_NOTIFIED: _("Carrier notified by email"),
        TicketEventKind.ESCALATED: _("Escalated"),
        TicketEventKind.CARRIER_ANSWER: _("Carrier's answer"),
        TicketEventKind.SLA_CLAIM: _("SLA-credit claim"),
    },
    SlaClaimState: {
        SlaClaimState.OPEN: pgettext_lazy("claim state", "Open"),
        SlaClaimState.CLAIMED: _("Claimed from the carrier"),
        SlaClaimState.CREDITED: _("Credited"),
        SlaClaimState.REJECTED: _("Rejected"),
    },
}

register(FAULT_LABELS, where="web/faults/labels.py")


def fault_choices(enum: type) -> list:
    """Django ``choices`` of a fault enumeration (its labels registered above)."""
    return choices_of(enum)
