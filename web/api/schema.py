"""Names of the OpenAPI enumerations whose field names collide (``ENUM_NAME_OVERRIDES`` in web/api/settings.py)."""

from __future__ import annotations

from django.utils.functional import Promise

from linewatch.choices import (
    ContactRole,
    DisputeOutcome,
    DisputeState,
    InspectionOutcome,
    InspectionState,
    IntakeOutcome,
    IntakeSourceKind,
    InvoiceState,
    LineMemberRole,
    LineType,
    OrderState,
    SlaClaimState,
    TicketState,
)
from web.labels import choices_of


def contact_roles() -> list[tuple[str, Promise | str]]:
    return choices_of(ContactRole)


def line_member_roles() -> list[tuple[str, Promise | str]]:
    return choices_of(LineMemberRole)


def line_types() -> list[tuple[str, Promise | str]]:
    return choices_of(LineType)


def order_states() -> list[tuple[str, Promise | str]]:
    return choices_of(OrderState)


def ticket_states() -> list[tuple[str, Promise | str]]:
    return choices_of(TicketState)


def sla_claim_states() -> list[tuple[str, Promise | str]]:
    return choices_of(SlaClaimState)


def inspection_states() -> list[tuple[str, Promise | str]]:
    return choices_of(InspectionState)


def invoice_states() -> list[tuple[str, Promise | str]]:
    return choices_of(InvoiceState)


def intake_outcomes() -> list[tuple[str, Promise | str]]:
    return choices_of(IntakeOutcome)


def intake_sources() -> list[tuple[str, Promise | str]]:
    return choices_of(IntakeSourceKind)


def dispute_states() -> list[tuple[str, Promise | str]]:
    return choices_of(DisputeState)


def dispute_outcomes() -> list[tuple[str, Promise | str]]:
    return choices_of(DisputeOutcome)


def inspection_outcomes() -> list[tuple[str, Promise | str]]:
    return choices_of(InspectionOutcome)
