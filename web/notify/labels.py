"""Translated labels of the outbox's statuses and the message kinds (kinds are added by other apps: a kind
without a label here shows its value, humanised)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linewatch.choices import DeliveryStatus, MessageKind

STATUS_LABELS: dict[DeliveryStatus, Promise] = {
    DeliveryStatus.PENDING: _("Pending"),
    DeliveryStatus.DELIVERED: _("Delivered"),
    DeliveryStatus.EXPIRED: _("Expired"),
}
STATUS_CHOICES = [(s.value, STATUS_LABELS[s]) for s in DeliveryStatus]

KIND_LABELS: dict[str, Promise] = {
    MessageKind.TEST_MESSAGE: _("Test message"),
    "carrier_fault_notice": _("Fault notice to the carrier"),
    "carrier_escalation": _("Escalation to the carrier"),
    "order_assigned": _("Order step assigned"),
    "order_due": _("Order step due"),
    "order_attention": _("Order needs attention"),
    "termination_notice": _("Termination notice"),
    "inspection_due": _("Periodic inspection due"),
    "payment_due": _("Invoice payment due"),
    "invoice_overdue": _("Invoice overdue"),
    "dispute_notice": _("Billing dispute to the carrier"),
    "dispute_reminder": _("Billing dispute reminder to the carrier"),
    "intake_report": _("Invoice intake report"),
}


def kind_label(kind: str) -> Promise | str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def kind_choices() -> list[tuple[str, Promise | str]]:
    return [(k.value, kind_label(k.value)) for k in MessageKind]
