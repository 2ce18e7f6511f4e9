"""Translated labels of the orders' enumerations (the values live in :mod:`linewatch.choices`), registered with
:mod:`web.labels` (``choices_of``, ``label``); importing this module fails if a value has none."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linewatch.choices import ChangeKind, OrderEventKind, OrderKind, OrderState
from web.labels import choices_of, label, register  # noqa: F401  (re-exported for the orders' modules)

LABELS: dict[type[Enum], dict[Enum, Promise]] = {
    OrderKind: {
        OrderKind.NEW_LINE: _("New line"),
        OrderKind.CHANGE: _("Change"),
        OrderKind.TERMINATION: _("Termination"),
    },
    ChangeKind: {
        ChangeKind.BANDWIDTH_UP: _("Bandwidth up"),
        ChangeKind.BANDWIDTH_DOWN: _("Bandwidth down"),
        ChangeKind.MOVE: _("Move"),
        ChangeKind.CARRIER_CHANGE: _("Carrier change"),
    },
    OrderState: {
        OrderState.REQUESTED: _("Requested"),
        OrderState.APPROVED: _("Approved"),
        OrderState.ORDERED: _("Ordered from the carrier"),
        OrderState.INSTALLED: _("Installed"),
        OrderState.IN_ACCEPTANCE: _("In acceptance"),
        OrderState.ACCEPTANCE_FAILED: _("Acceptance failed"),
        OrderState.ACCEPTED: _("Accepted"),
        OrderState.REJECTED: _("Rejected"),
        OrderState.AGREED: _("Agreed with the carrier"),
        OrderState.SCHEDULED: _("Scheduled"),
        OrderState.APPLIED: _("Applied"),
        OrderState.VERIFIED: _("Verified"),
        OrderState.NOTICE_CHECKED: _("Notice checked"),
        OrderState.CARRIER_CONFIRMED: _("Confirmed by the carrier"),
        OrderState.DEPROVISIONING: pgettext_lazy("order state", "Deprovisioning"),
        OrderState.EQUIPMENT_RECOVERED: _("Equipment recovered"),
        OrderState.COMPLETED: _("Completed"),
        OrderState.CANCELLED: _("Cancelled"),
    },
    OrderEventKind: {
        OrderEventKind.TRANSITION: _("State change"),
        OrderEventKind.COMMENT: _("Comment"),
        OrderEventKind.ASSIGNMENT: _("Assignment"),
        OrderEventKind.ATTACHMENT: _("Attachment"),
        OrderEventKind.ACCEPTANCE: _("Acceptance check"),
        OrderEventKind.VERIFICATION: _("Change verification"),
    },
}

register(LABELS, where="web/orders/labels.py")


# The buttons of the moves (web/orders/workflow.py MOVES), checked complete at import.
TRANSITION_LABELS: dict[str, Promise] = {
    "approve": _("Approve"),
    "place_order": _("Order from the carrier"),
    "install": _("Installed"),
    "start_acceptance": _("Start the acceptance"),
    "accept": _("Accept"),
    "fail_acceptance": _("Acceptance failed"),
    "agree": _("Agreed with the carrier"),
    "schedule": _("Schedule"),
    "apply": _("Apply now"),
    "verify": _("Verified"),
    "check_notice": _("Check the notice"),
    "confirm_carrier": _("Confirmed by the carrier"),
    "deprovision": _("Deprovision"),
    "recover_equipment": _("Equipment recovered"),
    "complete": _("Complete"),
    "reject": _("Reject"),
    "cancel": _("Cancel the order"),
}


def _check_transition_labels() -> None:
    from web.orders.workflow import BY_NAME

    missing = sorted(set(BY_NAME) - set(TRANSITION_LABELS))
    if missing:
        raise RuntimeError(f"web/orders/labels.py: no label for the moves {', '.join(missing)}")


_check_transition_labels()
