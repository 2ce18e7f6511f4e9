"""Every change of a ticket goes through one of these functions (Zulip's ``do_*``): the role is checked, the state
moves by its django-fsm transition, a :class:`TicketEvent` is appended, and the carrier's mail is enqueued, all in
one transaction. Views, the API, the alert intake and the escalation job call them.

``acting_user=None`` is linewatch itself (the alert intake, the worker): it may do every step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from linewatch.choices import FaultCause, TicketEventKind, TicketState
from web.faults.models import Ticket, TicketEvent

# Who may do what (docs/faults.md): the permission each step needs; roles get them in web/accounts/roles.py.
STEP_PERMISSIONS: dict[str, str] = {
    "open": "faults.add_ticket",  # every role: any staff member reports a fault
    "comment": "faults.add_ticket",
    "edit": "faults.change_ticket",  # assignee, carrier ticket number, outage, review note
    "notify_carrier": "faults.change_ticket",  # NOC, engineer, admin
    "start_work": "faults.change_ticket",
    "resolve": "faults.change_ticket",
    "reopen": "faults.change_ticket",
    "close": "faults.close_ticket",  # engineer, admin: after the post-incident review
}
# Steps that write (a read-only API token may do none of them).
_EDITABLE = ("assignee", "carrier_ticket_ref", "outage", "review_note", "affected_service", "description", "location")


class StepRefused(ValidationError):
    """The ticket's state does not allow the step (e.g. closing an open ticket)."""


def may(user: Any, step: str, *, token: Any = None) -> bool:
    """Whether ``user`` (through ``token``, if by one) may take ``step``; None is linewatch itself."""
    if user is None:
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    if token is not None and not token.can_write:
        return False
    return bool(user.has_perm(STEP_PERMISSIONS[step]))


def _check(user: Any, step: str, token: Any = None) -> None:
    if not may(user, step, token=token):
        raise PermissionDenied(_("your role may not %(step)s a ticket") % {"step": step.replace("_", " ")})


def _refused(ticket: Ticket, step: str) -> StepRefused:
    return StepRefused({"state": [_("a ticket in state %(state)s cannot %(step)s") % {
        "state": ticket.get_state_display(), "step": step}]}, code="state")


def _user_name(user: Any) -> str:
    return user.get_username() if user is not None else ""


def add_event(ticket: Ticket, kind: TicketEventKind, *, user: Any = None, text: str = "", data: dict | None = None,
              from_state: str = "", to_state: str = "", time: dt.datetime | None = None) -> TicketEvent:
    """Append to the timeline; anything but an alert's own event counts as an update (escalation clock)."""
    event = TicketEvent.objects.create(ticket=ticket, kind=kind, user=user, user_name=_user_name(user), text=text,
                                       data=data or {}, from_state=from_state, to_state=to_state,
                                       time=time or timezone.now())
    if kind not in (TicketEventKind.ALERT_FIRED, TicketEventKind.ALERT_RESOLVED):
        Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=event.time)
        ticket.last_activity_at = event.time
    return event


def _move(ticket: Ticket, step: str, *, user: Any, token: Any = None, text: str = "", time: dt.datetime | None = None,
          **kwargs: Any) -> Ticket:
    _check(user, step, token)
    before = ticket.state
    try:
        getattr(ticket, step)(**kwargs)
    except TransitionNotAllowed:
        raise _refused(ticket, step.replace("_", " ")) from None
    try:
        ticket.full_clean()
    except ValidationError:
        ticket.refresh_from_db()  # the refused step leaves the instance as it is stored
        raise
    ticket.save()
    add_event(ticket, TicketEventKind.STATE_CHANGE, user=user, text=text, from_state=before, to_state=ticket.state,
              time=time)
    return ticket


@transaction.atomic
def open_ticket(*, acting_user: Any, kind: str, line: Any = None, location: str = "", affected_service: str = "",
                description: str = "", outage: bool = False, token: Any = None, **fields: Any) -> Ticket:
    """A ticket reported by ``acting_user`` (or linewatch: ``fields`` carry the alert's rule, key and times)."""
    _check(acting_user, "open", token)
    ticket = Ticket(kind=kind, line=line, location=location, affected_service=affected_service,
                    description=description, outage=outage, reporter=acting_user, **fields)
    if line is not None:
        ticket.carrier = line.carrier
        ticket.site = line.site
        ticket.location = ticket.location or line.site.name
    ticket.last_activity_at = ticket.opened_at
    ticket.full_clean()
    ticket.save()
    add_event(ticket, TicketEventKind.OPENED, user=acting_user, text=description, time=ticket.opened_at)
    return ticket


@transaction.atomic
def comment(ticket: Ticket, *, acting_user: Any, text: str, carrier_answer: bool = False, token: Any = None,
            carrier_ticket_ref: str = "") -> TicketEvent:
    """A comment, or the carrier's answer (which may bring its ticket number)."""
    _check(acting_user, "edit" if carrier_answer else "comment", token)
    if not text.strip():
        raise ValidationError({"text": [_("write the comment")]})
    if carrier_ticket_ref:
        ticket.carrier_ticket_ref = carrier_ticket_ref
        ticket.save()
    kind = TicketEventKind.CARRIER_ANSWER if carrier_answer else TicketEventKind.COMMENT
    return add_event(ticket, kind, user=acting_user, text=text.strip(),
                     data={"carrier_ticket_ref": carrier_ticket_ref} if carrier_ticket_ref else None)


@transaction.atomic
def edit(ticket: Ticket, *, acting_user: Any, token: Any = None, **changes: Any) -> Ticket:
    """Change the working fields (not the state: that is a step)."""
    _check(acting_user, "edit", token)
    unknown = sorted(set(changes) - set(_EDITABLE))
    if unknown:
        raise ValidationError({unknown[0]: [_("not editable here")]})
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.full_clean()
    ticket.save()
    return ticket


@transaction.atomic
def notify_carrier(ticket: Ticket, *, acting_user: Any, token: Any = None, now: dt.datetime | None = None) -> Ticket:
    """Mail the carrier's NOC contacts (template ``carrier_fault_notice``) and move to carrier_notified."""
    from web.faults.carrier_mail import send_fault_notice

    _check(acting_user, "notify_carrier", token)
    now = now or timezone.now()
    if ticket.state != TicketState.OPEN:  # checked before the mail is rendered and queued
        raise _refused(ticket, _("notify the carrier"))
    sent = send_fault_notice(ticket, now=now)
    ticket.carrier_notified_at = now
    ticket.escalation_level = 1
    _move(ticket, "notify_carrier", user=acting_user, token=token, time=now)
    add_event(ticket, TicketEventKind.CARRIER_NOTIFIED, user=acting_user, time=now, data=sent.as_data(),
              text=", ".join(sent.recipients))
    return ticket


@transaction.atomic
def start_work(ticket: Ticket, *, acting_user: Any, token: Any = None) -> Ticket:
    return _move(ticket, "start_work", user=acting_user, token=token)


@transaction.atomic
def resolve(ticket: Ticket, *, acting_user: Any, cause: str = "", resolved_at: dt.datetime | None = None,
            review_note: str | None = None, token: Any = None) -> Ticket:
    """Resolve with a cause (a person must give one; the alert's resolution may leave it for the review).

    ``resolved_at``: the alert's resolution time; now when a person resolves it."""
    if acting_user is not None and not cause:
        _check(acting_user, "resolve", token)
        raise ValidationError({"cause": [_("give the cause to resolve the ticket")]})
    if cause:
        FaultCause(cause)
    if review_note is not None:
        ticket.review_note = review_note
    moment = resolved_at or timezone.now()
    _move(ticket, "resolve", user=acting_user, token=token, cause=cause, resolved_at=moment, time=moment)
    if ticket.outage and ticket.line_id:
        from web.faults.claims import record_sla_claim

        record_sla_claim(ticket)
    return ticket


@transaction.atomic
def close(ticket: Ticket, *, acting_user: Any, review_note: str | None = None, cause: str = "",
          token: Any = None) -> Ticket:
    """Close after the post-incident review; the cause is needed by now (an alert may have resolved it without)."""
    if review_note is not None:
        ticket.review_note = review_note
    if cause:
        ticket.cause = FaultCause(cause).value
    return _move(ticket, "close", user=acting_user, token=token, closed_at=timezone.now())


@transaction.atomic
def reopen(ticket: Ticket, *, acting_user: Any, text: str = "", token: Any = None) -> Ticket:
    return _move(ticket, "reopen", user=acting_user, token=token, text=text)


STEPS = {"start_work": start_work, "resolve": resolve, "close": close, "reopen": reopen,
         "notify_carrier": notify_carrier}


@transaction.atomic
def escalate(ticket: Ticket, *, now: dt.datetime) -> bool:
    """Mail the carrier's next contact (escalation level + 1), once per level; False when it has nobody there."""
    from web.faults.carrier_mail import send_escalation

    level = ticket.escalation_level + 1
    sent = send_escalation(ticket, level=level, now=now)
    if sent is None:
        return False
    ticket.escalation_level = level
    ticket.save()
    add_event(ticket, TicketEventKind.ESCALATED, time=now, data=sent.as_data(), text=", ".join(sent.recipients))
    return True
