"""Translatable labels of the enumerations in :mod:`linewatch.choices` (the values themselves live only there).

``choices_of(Enum)`` gives Django ``choices``; importing this module fails if a member has no label, so a value
added to linewatch/choices.py cannot reach the UI untranslated.
"""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linewatch.choices import (
    BillingModel,
    ChangeAction,
    ContactRole,
    DocumentKind,
    GbUnit,
    LineMemberRole,
    LineStatus,
    LineType,
    LoginEventKind,
    ProrationConvention,
    Role,
    SnmpAuthProtocol,
    SnmpPrivProtocol,
    TokenScope,
    UsageDirection,
)

LABELS: dict[type[Enum], dict[Enum, Promise | str]] = {
    LineStatus: {
        LineStatus.PLANNED: _("Planned"),
        LineStatus.PROVISIONING: _("Provisioning"),
        LineStatus.ACTIVE: _("Active"),
        LineStatus.OFFLINE: _("Offline"),
        LineStatus.DEPROVISIONING: _("Deprovisioning"),
        LineStatus.DECOMMISSIONED: _("Decommissioned"),
    },
    LineType: {
        LineType.INTERNET: _("Internet"),
        LineType.MPLS: _("MPLS"),
        LineType.LEASED_LINE: _("Leased line"),
        LineType.ETHERNET: _("Ethernet"),
        LineType.VOICE_TRUNK: _("Voice trunk"),
        LineType.SDWAN: _("SD-WAN"),
        LineType.OTHER: _("Other"),
    },
    BillingModel: {
        BillingModel.FLAT: _("Flat rate"),
        BillingModel.BURSTABLE_95: _("Burstable (95th percentile)"),
        BillingModel.VOLUME_QUOTA: _("Volume quota"),
    },
    UsageDirection: {
        UsageDirection.MAX: _("Larger of in and out"),
        UsageDirection.IN: _("Inbound"),
        UsageDirection.OUT: _("Outbound"),
        UsageDirection.SUM: _("Inbound + outbound"),
    },
    GbUnit: {GbUnit.DECIMAL: _("Decimal (10^9 bytes)"), GbUnit.BINARY: _("Binary (2^30 bytes)")},
    ProrationConvention: {
        ProrationConvention.ACTUAL_DAYS: _("Actual days of the month"),
        ProrationConvention.THIRTIETHS: _("Thirtieths"),
    },
    ContactRole: {
        ContactRole.NOC: _("NOC"),
        ContactRole.BILLING: _("Billing"),
        ContactRole.ESCALATION: _("Escalation"),
        ContactRole.SALES: _("Sales"),
    },
    LineMemberRole: {
        LineMemberRole.MEMBER: _("Member"),
        LineMemberRole.PRIMARY: _("Primary"),
        LineMemberRole.BACKUP: _("Backup"),
    },
    ChangeAction: {
        ChangeAction.CREATE: _("Created"),
        ChangeAction.UPDATE: _("Updated"),
        ChangeAction.DELETE: _("Deleted"),
    },
    Role: {
        Role.VIEWER: _("Viewer"),
        Role.NOC: _("NOC operator"),
        Role.ENGINEER: _("Engineer"),
        Role.FINANCE: _("Finance"),
        Role.ADMIN: _("Administrator"),
    },
    TokenScope: {TokenScope.READ: _("Read"), TokenScope.WRITE: _("Read and write")},
    LoginEventKind: {
        LoginEventKind.LOGIN: _("Logged in"),
        LoginEventKind.LOGOUT: _("Logged out"),
        LoginEventKind.LOGIN_FAILED: _("Login failed"),
        LoginEventKind.LOCKED_OUT: _("Locked out"),
    },
    DocumentKind: {
        DocumentKind.CONTRACT: pgettext_lazy("document kind", "Contract"),
        DocumentKind.ACCEPTANCE_REPORT: pgettext_lazy("document kind", "Acceptance report"),
        DocumentKind.QUOTE: pgettext_lazy("document kind", "Quote"),
        DocumentKind.INVOICE: pgettext_lazy("document kind", "Invoice"),
        DocumentKind.ORDER_FORM: pgettext_lazy("document kind", "Order form"),
        DocumentKind.OTHER: pgettext_lazy("document kind", "Other document"),
    },
    # Protocol names are not translated.
    SnmpAuthProtocol: {p: p.value for p in SnmpAuthProtocol},
    SnmpPrivProtocol: {p: p.value for p in SnmpPrivProtocol},
}

def register(labels: dict[type[Enum], dict[Enum, Promise | str]], *, where: str) -> None:
    """Add an app's labels of its enumerations (``where``: its labels module, named in the error), each checked
    complete as these are."""
    for enum, enum_labels in labels.items():
        missing = [m.value for m in enum if m not in enum_labels]
        if missing:
            raise RuntimeError(f"{where}: {enum.__name__} has no label for {', '.join(missing)}")
    LABELS.update(labels)


register(dict(LABELS), where="web/labels.py")


def choices_of(enum: type[Enum]) -> list[tuple[str, Promise | str]]:
    return [(member.value, LABELS[enum][member]) for member in enum]


def label(enum: type[Enum], value: str) -> Promise | str:
    return LABELS[enum][enum(value)]
