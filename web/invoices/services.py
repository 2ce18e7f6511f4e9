"""The only ways an invoice changes state (Zulip's ``do_*`` actions): :func:`approve`, :func:`schedule`,
:func:`mark_paid` by finance, and the audit's own moves (:func:`system_move`). Each is atomic, checks the actor's
role against web/invoices/workflow.py, and writes an :class:`~web.invoices.models.InvoiceEvent`. Pages, the API and
the worker's jobs all call these; ``user=None`` is linewatch itself (the worker).

Refusals are typed: ``NotPermitted`` (the orders' own: HTTP 403, naming the roles that own the move), :class:`NotAvailable`
(409, the invoice's state does not allow it), ``ValidationError`` naming the field (400).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from billing_etl.model import money
from linewatch.choices import FindingState, InvoiceState
from web.invoices.models import Invoice, InvoiceEvent
from web.invoices.workflow import BY_NAME, Move, moves_from
from web.orders.services import NotPermitted, user_roles

__all__ = ["NotAvailable", "NotPermitted", "approve", "available_moves", "mark_paid", "schedule", "system_move"]

SYSTEM_NAME = "linewatch"


class InvoiceError(Exception):
    """A move refused."""


class NotAvailable(InvoiceError):
    """The move is not possible from the invoice's state (HTTP 409)."""

    def __init__(self, invoice: Invoice, move: str):
        self.move = move
        super().__init__(_("%(move)s is not possible for an invoice in state %(state)s") % {
            "move": move, "state": invoice.state})


def may_move(move: Move, user: Any) -> bool:
    return user is None or bool(user_roles(user) & move.roles)


def available_moves(invoice: Invoice, user: Any) -> list[Move]:
    """The moves ``user`` may make on ``invoice`` by hand now (the page's buttons)."""
    return [m for m in moves_from(invoice.state_enum) if m.roles and may_move(m, user)]


def _actor_name(user: Any) -> str:
    return user.get_username() if user is not None else SYSTEM_NAME


def record_event(invoice: Invoice, *, user: Any, move: Move | None = None, source: str = "",
                 target: InvoiceState | None = None, text: str = "", data: Mapping[str, Any] | None = None,
                 now: dt.datetime | None = None) -> InvoiceEvent:
    target = target or (move.target if move else None)
    return InvoiceEvent.objects.create(
        invoice=invoice, actor=user, actor_name=_actor_name(user), transition=move.name if move else "",
        source=source, target=target.value if target else "", text=text, data=dict(data or {}),
        time=now or timezone.now())


def _move(invoice: Invoice, name: str, *, user: Any, apply: Any = None, text: str = "",
          now: dt.datetime | None = None) -> Invoice:
    """Make move ``name``: lock, check the state and the role, ``apply(invoice) -> data`` (may raise
    ValidationError), save, event. Returns the saved invoice."""
    move = BY_NAME[name]
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("carrier").get(pk=invoice.pk)
        if not can_proceed(getattr(invoice, name)):
            raise NotAvailable(invoice, name)
        if not may_move(move, user):
            raise NotPermitted(name, move.roles)
        source = invoice.state
        data = apply(invoice) if apply else {}
        getattr(invoice, name)()
        invoice.save()
        record_event(invoice, user=user, move=move, source=source, text=text, data=data, now=now)
    return invoice


def system_move(invoice: Invoice, name: str, *, text: str = "", data: Mapping[str, Any] | None = None) -> Invoice:
    """A move of linewatch itself (the audit: ``audit``, ``reopen``)."""
    return _move(invoice, name, user=None, apply=lambda _inv: dict(data or {}), text=text)


def disputed_amount(invoice: Invoice) -> Decimal:
    """The recoverable part of the invoice's findings in state ``disputed`` (web/findings), in its currency."""
    try:
        from web.findings.models import Finding
    except ImportError:  # the findings app without its models (a partial checkout): nothing is disputed
        return Decimal(0)
    rows = Finding.objects.filter(invoice=invoice, state=FindingState.DISPUTED.value, currency=invoice.currency)
    return money(sum(rows.values_list("recoverable", flat=True), Decimal(0)), invoice.currency)


def approve(invoice: Invoice, user: Any, *, withhold_disputed: bool, note: str = "",
            now: dt.datetime | None = None) -> Invoice:
    """Approve ``invoice`` for payment (finance). ``withhold_disputed``: the recoverable amount of its disputed
    findings is withheld from the payment; ``amount_to_pay`` = total − withheld (never below zero)."""
    now = now or timezone.now()

    def apply(inv: Invoice) -> dict[str, Any]:
        withheld = disputed_amount(inv) if withhold_disputed else Decimal(0)
        withheld = min(withheld, max(inv.total, Decimal(0)))
        inv.withhold_disputed = withhold_disputed
        inv.withheld_amount = withheld
        inv.amount_to_pay = money(inv.total - withheld, inv.currency)
        inv.approved_by, inv.approved_at = user, now
        return {"withhold_disputed": withhold_disputed, "withheld_amount": str(withheld),
                "amount_to_pay": str(inv.amount_to_pay), "currency": inv.currency}

    return _move(invoice, "approve", user=user, apply=apply, text=note, now=now)


def schedule(invoice: Invoice, user: Any, *, payment_date: dt.date | None, note: str = "") -> Invoice:
    """Schedule the payment on ``payment_date`` (on or before the due date; again to move the date)."""

    def apply(inv: Invoice) -> dict[str, Any]:
        if payment_date is None:
            raise ValidationError({"payment_date": [_("give the payment date")]})
        if payment_date > inv.due_date:
            raise ValidationError({"payment_date": [_("%(date)s is after the due date %(due)s") % {
                "date": payment_date.isoformat(), "due": inv.due_date.isoformat()}]})
        previous = inv.payment_date
        inv.payment_date = payment_date
        return {"payment_date": payment_date.isoformat(),
                **({"previous_payment_date": previous.isoformat()} if previous else {})}

    return _move(invoice, "schedule", user=user, apply=apply, text=note)


def mark_paid(invoice: Invoice, user: Any, *, paid_on: dt.date | None, reference: str, note: str = "") -> Invoice:
    """Record the payment: the day it was paid (not in the future) and the payment's reference."""

    def apply(inv: Invoice) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if paid_on is None:
            errors["paid_on"] = [_("give the day it was paid")]
        elif paid_on > timezone.localdate():
            errors["paid_on"] = [_("%(date)s is in the future") % {"date": paid_on.isoformat()}]
        if not reference.strip():
            errors["reference"] = [_("give the payment's reference (the bank transfer or ERP document)")]
        elif len(reference.strip()) > Invoice._meta.get_field("payment_reference").max_length:
            errors["reference"] = [_("at most 128 characters")]
        if errors:
            raise ValidationError(errors)
        inv.paid_on, inv.payment_reference = paid_on, reference.strip()
        return {"paid_on": paid_on.isoformat(), "reference": inv.payment_reference,
                "on_time": paid_on <= inv.due_date, "amount": str(inv.payable_amount), "currency": inv.currency}

    return _move(invoice, "mark_paid", user=user, apply=apply, text=note)
