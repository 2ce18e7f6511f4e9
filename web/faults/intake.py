"""Alert intake: the alert evaluator's notification payload (``alerting/service.py`` ``flush``) turned into tickets.

* A firing alert of a rule in ``faults.open_on_rules`` opens one ticket per incident: the alert's identity
  (``key`` = rule/subject) and the moment it started (``since_s``) are unique, so the evaluator's reminders and a
  second receiver's copy add nothing. An alert on a line that already has an active ticket joins that ticket's
  timeline instead of opening another (one incident, several rules: line_down and no_data of one line).
* A resolved alert resolves the active tickets it opened, at the alert's resolution time (the evaluator's
  ``since_s`` of a resolved alert), to the second.
* The whole payload is applied once per ``Idempotency-Key`` (:class:`AlertReceipt`): a repeat gets the first
  answer back and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from alerting.render import ENGLISH, Locale, summary
from linewatch.choices import AlertRuleKind, AlertState, FaultKind, TicketEventKind
from linewatch.settings import FaultsSettings
from web.faults import services
from web.faults.models import AlertReceipt, Ticket, TicketEvent

RULE_FAULT_KIND = {
    AlertRuleKind.LINE_DOWN: FaultKind.LINE_DOWN,
    AlertRuleKind.NO_DATA: FaultKind.NO_DATA,
    AlertRuleKind.UTILIZATION: FaultKind.SATURATION,
    AlertRuleKind.ERROR_RATE: FaultKind.DEGRADED,
    AlertRuleKind.MEMBER_DOWN: FaultKind.DEGRADED,
    AlertRuleKind.DEVICE_UNREACHABLE: FaultKind.NO_DATA,
}
OUTAGE_KINDS = (AlertRuleKind.LINE_DOWN,)  # the service was down (reliability figures, SLA claims)


class AlertIn(BaseModel):
    """One alert of the payload (``AlertService._alert_dict``); keys added later by the evaluator are ignored."""

    model_config = ConfigDict(extra="ignore")
    id: int | None = None
    key: str = Field(min_length=1, max_length=300)
    rule: str = Field(min_length=1)
    kind: str | None = None
    state: AlertState
    severity: str = ""
    since_s: float
    changed_s: float | None = None
    value: float | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    info: dict[str, Any] = Field(default_factory=dict)


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    receiver: str = ""
    group_key: str = Field(default="", max_length=300)
    reason: str = ""
    created_s: float | None = None
    firing: list[AlertIn] = Field(default_factory=list)
    resolved: list[AlertIn] = Field(default_factory=list)


def parse(data: Any) -> NotificationIn:
    """The payload, or ValidationError naming the field (``firing.0.since_s``) and the reason."""
    try:
        return NotificationIn.model_validate(data)
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors(include_url=False, include_input=False):
            errors.setdefault(".".join(str(p) for p in err["loc"]) or "payload", []).append(err["msg"])
        raise ValidationError(errors) from None


@dataclass
class IntakeResult:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)
    repeat: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def moment(t_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t_s, dt.UTC)


def describe(alert: dict[str, Any], locale: Locale = ENGLISH) -> str:
    """The evaluator's one-line summary; a payload missing what it needs gets a plain line instead of an error."""
    try:
        return summary(alert, locale)
    except (KeyError, TypeError, ValueError):
        value = alert.get("value")
        return f"{alert.get('key', '?')}: {alert.get('state', '?')}" + ("" if value is None else f" ({value:g})")


def _alert_data(alert: AlertIn) -> dict[str, Any]:
    return {"alert": alert.model_dump(mode="json"), "key": alert.key, "since_s": alert.since_s}


def _record(ticket: Ticket, kind: TicketEventKind, alert: AlertIn) -> bool:
    """Append the alert's event unless this alert's same moment is on the timeline already."""
    if TicketEvent.objects.filter(ticket=ticket, kind=kind, data__key=alert.key,
                                  data__since_s=alert.since_s).exists():
        return False
    services.add_event(ticket, kind, time=moment(alert.since_s), data=_alert_data(alert),
                       text=describe(alert.model_dump(mode="json")))
    return True


def _fired(alert: AlertIn, notification: NotificationIn, config: FaultsSettings, result: IntakeResult) -> None:
    from web.inventory.models import Line

    line_name = alert.labels.get("line", "")
    if not line_name:
        result.ignored.append({"alert": alert.key, "reason": "not about a line"})
        return
    line = Line.objects.select_related("carrier", "site").filter(name=line_name).first()
    if line is None:
        result.ignored.append({"alert": alert.key, "reason": f"line {line_name} is not in the inventory"})
        return
    fired_at = moment(alert.since_s)
    if Ticket.objects.filter(alert_key=alert.key, opened_at=fired_at).exists():
        return  # the same incident again (a reminder, another receiver's copy)
    ticket = Ticket.objects.active().filter(line=line).order_by("opened_at", "pk").first()
    if ticket is not None:
        if _record(ticket, TicketEventKind.ALERT_FIRED, alert):
            if not ticket.alert_key and alert.rule in config.open_on_rules:
                ticket.alert_key, ticket.alert_rule = alert.key, alert.rule
                ticket.alert_group_key = notification.group_key
                ticket.save()
            result.updated.append(ticket.pk)
        return
    if alert.rule not in config.open_on_rules:
        result.ignored.append({"alert": alert.key, "reason": f"rule {alert.rule} does not open tickets"})
        return
    rule_kind = AlertRuleKind(alert.kind) if alert.kind in set(AlertRuleKind) else None
    text = describe(alert.model_dump(mode="json"))
    ticket = services.open_ticket(
        acting_user=None, kind=RULE_FAULT_KIND.get(rule_kind, FaultKind.OTHER) if rule_kind else FaultKind.OTHER,
        line=line, affected_service=line.description[:200] or line.get_type_display(), description=text,
        outage=rule_kind in OUTAGE_KINDS, alert_rule=alert.rule, alert_key=alert.key,
        alert_group_key=notification.group_key, opened_at=fired_at)
    _record(ticket, TicketEventKind.ALERT_FIRED, alert)
    result.opened.append(ticket.pk)
    if config.notify_carrier_automatically and ticket.outage:
        try:
            with transaction.atomic():
                services.notify_carrier(ticket, acting_user=None)
        except ValidationError as exc:  # nobody to mail: the ticket stays open, the timeline says why
            services.add_event(ticket, TicketEventKind.COMMENT,
                               text="carrier not notified automatically: " + "; ".join(exc.messages))


def _resolved(alert: AlertIn, result: IntakeResult) -> None:
    resolved_at = moment(alert.since_s)
    for ticket in Ticket.objects.active().filter(events__kind=TicketEventKind.ALERT_FIRED,
                                                 events__data__key=alert.key).distinct():
        if not _record(ticket, TicketEventKind.ALERT_RESOLVED, alert):
            continue
        if ticket.alert_key == alert.key and ticket.opened_at <= resolved_at:
            services.resolve(ticket, acting_user=None, cause=ticket.cause, resolved_at=resolved_at)
            result.resolved.append(ticket.pk)
        else:
            result.updated.append(ticket.pk)


def receive(data: Any, *, idempotency_key: str, config: FaultsSettings) -> IntakeResult:
    """Apply one notification payload (once per ``idempotency_key``); ValidationError for a malformed one."""
    notification = parse(data)
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValidationError({"Idempotency-Key": ["give the header: 1 to 200 characters"]})
    with transaction.atomic():
        try:
            with transaction.atomic():
                receipt = AlertReceipt.objects.create(idempotency_key=idempotency_key,
                                                      group_key=notification.group_key)
        except IntegrityError:
            first = AlertReceipt.objects.get(idempotency_key=idempotency_key)
            return IntakeResult(**{**first.result, "repeat": True})
        result = IntakeResult()
        for alert in notification.firing:
            _fired(alert, notification, config, result)
        for alert in notification.resolved:
            _resolved(alert, result)
        AlertReceipt.objects.filter(pk=receipt.pk).update(result=result.as_json())
        receipt.tickets.add(*{*result.opened, *result.updated, *result.resolved})
    return result
