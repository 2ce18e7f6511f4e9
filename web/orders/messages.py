"""The orders' messages, queued in the application's outbox (web/notify, contracts §5) inside the caller's
transaction. Each key names exactly one reminder, so a job run twice, or a retried request, sends nothing twice:

- ``order:<id>:assigned:step:<step>:user:<user>``: a step was assigned to you (``order_assigned``);
- ``order:<id>:due:step:<step>:<due date>:soon`` / ``…:overdue``: your step is due within
  ``orders.reminder_days_before`` days, or overdue (``order_due``; a new due date reminds again);
- ``order:<id>:attention:<reason>:<n>``: the acceptance (or a verification) failed (``order_attention``);
- ``order:<id>:termination_notice:user:<user>`` and ``…:receiver:<name>``: a termination is complete
  (``termination_notice``, to the requester and ``orders.finance_receiver``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from linewatch.choices import MessageKind, OrderState
from web.notify.outbox import Recipient, enqueue
from web.notify.templates import render

log = logging.getLogger(__name__)


def _url(order: Any) -> str:
    base = getattr(settings, "LINEWATCH_WEB_BASE_URL", "") or ""
    return f"{base}{order.get_absolute_url()}"


def _context(order: Any) -> dict[str, Any]:
    line = order.line
    return {
        "order": f"#{order.pk}", "kind": order.kind, "state": order.state,
        "line": line.name if line else order.line_name, "circuit_id": line.circuit_id if line else "",
        "site": str(line.site if line else order.site or ""), "url": _url(order),
    }


def _send(key: str, kind: MessageKind, recipient: Recipient, order: Any, context: dict[str, Any]) -> bool:
    rendered = render(kind.value, language=recipient.language, context=context)
    return enqueue(key, to=[recipient], subject=rendered.subject, text=rendered.text, html=rendered.html,
                   language=recipient.language, about=order)


def _user_recipient(user: Any) -> Recipient | None:
    try:
        return Recipient.user(user)
    except ValueError:
        log.warning("order message: user %s has no email address; not sent", user.get_username())
        return None


def assigned(step: Any, *, now: dt.datetime) -> bool:
    recipient = _user_recipient(step.assignee)
    if recipient is None:
        return False
    order = step.order
    context = _context(order) | {"step": step.stage, "assignee": step.assignee.get_username(),
                                 "due_date": step.due_date.isoformat() if step.due_date else ""}
    return _send(f"order:{order.pk}:assigned:step:{step.pk}:user:{step.assignee_id}", MessageKind.ORDER_ASSIGNED,
                 recipient, order, context)


def due(step: Any, *, overdue: bool) -> bool:
    recipient = _user_recipient(step.assignee)
    if recipient is None:
        return False
    order = step.order
    context = _context(order) | {"step": step.stage, "assignee": step.assignee.get_username(),
                                 "due_date": step.due_date.isoformat(), "overdue": overdue}
    when = "overdue" if overdue else "soon"
    return _send(f"order:{order.pk}:due:step:{step.pk}:{step.due_date.isoformat()}:{when}", MessageKind.ORDER_DUE,
                 recipient, order, context)


def attention(order: Any, *, stage: OrderState, reason: str, failures: list[str], now: dt.datetime) -> bool:
    """Tell the assignee of ``stage`` (else the requester) that the order needs them (``reason``)."""
    step = order.steps.filter(stage=stage.value).select_related("assignee").first()
    user = step.assignee if step is not None and step.assignee_id else order.requester
    if user is None:
        return False
    recipient = _user_recipient(user)
    if recipient is None:
        return False
    n = order.events.filter(transition=f"fail_{stage.value.removeprefix('in_')}").count()
    context = _context(order) | {"reason": reason, "failures": list(failures)}
    return _send(f"order:{order.pk}:attention:{reason}:{n}", MessageKind.ORDER_ATTENTION, recipient, order, context)


def termination_notice(order: Any, *, now: dt.datetime) -> bool:
    """The completion notice to the requester and the finance receiver; True if at least one was queued."""
    context = _context(order) | {
        "termination_date": order.requested_date.isoformat() if order.requested_date else "",
        "carrier": str(order.line.carrier) if order.line else "",
        "carrier_confirmation_ref": order.carrier_confirmation_ref,
        "fee": (order.terms or {}).get("fee", "0"), "currency": (order.terms or {}).get("currency", ""),
        "completed_at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M %Z"),
    }
    sent = False
    if order.requester is not None:
        recipient = _user_recipient(order.requester)
        if recipient is not None:
            sent |= _send(f"order:{order.pk}:termination_notice:user:{order.requester_id}",
                          MessageKind.TERMINATION_NOTICE, recipient, order, context)
    finance = settings.LINEWATCH.orders.finance_receiver
    if finance:
        try:
            recipient = Recipient.receiver(finance)
        except ValueError as exc:  # not a receiver of alerts.yaml: the termination completes all the same
            log.error("orders.finance_receiver %s: %s; the termination notice of order %s is not sent to it",
                      finance, exc, order.pk)
        else:
            sent |= _send(f"order:{order.pk}:termination_notice:receiver:{finance}", MessageKind.TERMINATION_NOTICE,
                          recipient, order, context)
    return sent
