"""The carrier's mail of a ticket: the fault notice to its NOC, and the escalation to the next contact.

The text is the editable template of the kind (``carrier_fault_notice``, ``carrier_escalation``: web/notify
``render``), in the language of the carrier's own template row when it has one, else the application's language.
The message is enqueued in the caller's transaction (``web.notify.outbox.enqueue``), keyed so it is sent once:
``ticket:<id>:carrier:notify`` and ``ticket:<id>:escalate:<level>``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from alerting.render import Locale, format_bps, format_time
from linewatch.choices import ContactRole, Language, MessageKind, TicketEventKind
from web.faults.intake import describe
from web.faults.models import Ticket
from web.inventory import live

REFERENCE_PREFIX = "LW-FAULT-"


@dataclass(frozen=True)
class SentMail:
    key: str
    kind: str
    level: int
    language: str
    subject: str
    recipients: tuple[str, ...]
    queued: bool  # False: the key was queued before (nothing sent twice)

    def as_data(self) -> dict[str, Any]:
        return {"outbox_key": self.key, "kind": self.kind, "level": self.level, "language": self.language,
                "subject": self.subject, "recipients": list(self.recipients)}


def reference(ticket: Ticket) -> str:
    """Our reference, which the carrier quotes back."""
    return f"{REFERENCE_PREFIX}{ticket.pk}"


def contacts_at(carrier: Any, level: int) -> list[Any]:
    """Who is mailed at escalation ``level``: 1 the NOC contacts, 2 on the escalation contacts of level − 1."""
    contacts = carrier.contacts.exclude(email="")
    if level == 1:
        return list(contacts.filter(role=ContactRole.NOC))
    return list(contacts.filter(role=ContactRole.ESCALATION, escalation_level=level - 1))


def carrier_language(kind: str, carrier: Any) -> str:
    """The language of the carrier's own template of ``kind`` (Korean if it has a Korean one), else the app's."""
    from web.notify.models import MessageTemplate

    languages = set(MessageTemplate.objects.filter(kind=kind, carrier=carrier).values_list("language", flat=True))
    for language in (Language.KO.value, Language.EN.value):
        if language in languages:
            return language
    code = settings.LANGUAGE_CODE.split("-")[0]
    return code if code in set(Language) else Language.EN.value


def format_moment(moment: dt.datetime) -> str:
    """A time as the carrier reads it: the site's time zone, with its offset, to the second."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S %z")


def evidence(ticket: Ticket, language: str) -> list[str]:
    """The alerts' measured values as one line each (the alert evaluator's summary, in ``language``), then the
    line's last traffic sample from InfluxDB (the line page's query and short timeout; left out when InfluxDB
    does not answer)."""
    locale = Locale(language=Language(language), timezone=settings.TIME_ZONE)
    alerts = [e.data["alert"] for e in ticket.events.filter(kind=TicketEventKind.ALERT_FIRED) if "alert" in e.data]
    lines = [describe(alert, locale) for alert in alerts]
    if ticket.line is not None:
        current = live.line_figures(settings.LINEWATCH.influx, line=ticket.line.name,
                                    capacity_bps=ticket.line.capacity_bps, now_s=live.clock()).current
        if current is not None:
            with translation.override(language):
                lines.append(_("last sample %(time)s: in %(in)s, out %(out)s") % {
                    "time": format_time(current.time_s, locale), "in": _rate(current.in_bps, current.in_util_pct),
                    "out": _rate(current.out_bps, current.out_util_pct)})
    return lines


def _rate(bps: float | None, util_pct: float | None) -> str:
    if bps is None:
        return "-"
    return format_bps(bps) + ("" if util_pct is None else f" ({util_pct:.1f} %)")


def context(ticket: Ticket, *, language: str, level: int, now: dt.datetime) -> dict[str, Any]:
    line = ticket.line
    with translation.override(language):
        kind = str(ticket.get_kind_display())
    return {
        "reference": reference(ticket), "carrier": ticket.carrier.name if ticket.carrier else "",
        "circuit_id": line.circuit_id if line else "", "line": line.name if line else "",
        "site": ticket.site.name if ticket.site else "", "location": ticket.location,
        "affected_service": ticket.affected_service, "kind": kind,
        # An alert's ticket describes itself with the alert's summary: the evidence already says it.
        "description": "" if ticket.reporter_id is None and ticket.alert_key else ticket.description,
        "since": format_moment(ticket.opened_at), "evidence": evidence(ticket, language),
        "carrier_ticket_ref": ticket.carrier_ticket_ref, "level": level,
        "notified_at": format_moment(ticket.carrier_notified_at) if ticket.carrier_notified_at else "",
        "hours_without_update": round((now - ticket.last_activity_at).total_seconds() / 3600, 1),
    }


def _send(ticket: Ticket, *, kind: MessageKind, key: str, level: int, recipients: list[Any],
          now: dt.datetime) -> SentMail:
    from web.notify.outbox import Recipient, enqueue
    from web.notify.templates import render

    language = carrier_language(kind.value, ticket.carrier)
    rendered = render(kind.value, language=language, carrier=ticket.carrier,
                      context=context(ticket, language=language, level=level, now=now))
    to = [Recipient.email(c.email, name=c.name, language=language) for c in recipients]
    queued = enqueue(key, to=to, subject=rendered.subject, text=rendered.text, html=rendered.html,
                     language=language, about=ticket)
    return SentMail(key=key, kind=kind.value, level=level, language=language, subject=rendered.subject,
                    recipients=tuple(str(r) for r in to), queued=queued)


def send_fault_notice(ticket: Ticket, *, now: dt.datetime) -> SentMail:
    """Queue the fault notice to the carrier's NOC; ValidationError naming the field when nobody can be mailed."""
    if ticket.line is None or ticket.carrier is None:
        raise ValidationError({"line": [_("give the line: the carrier is notified about one of its circuits")]})
    recipients = contacts_at(ticket.carrier, 1)
    if not recipients:
        raise ValidationError({"carrier": [_("carrier %(carrier)s has no NOC contact with an email address") % {
            "carrier": ticket.carrier}]})
    return _send(ticket, kind=MessageKind.CARRIER_FAULT_NOTICE, key=f"ticket:{ticket.pk}:carrier:notify", level=1,
                 recipients=recipients, now=now)


def send_escalation(ticket: Ticket, *, level: int, now: dt.datetime) -> SentMail | None:
    """Queue the escalation to the contacts of ``level``; None when the carrier has nobody at that level."""
    recipients = contacts_at(ticket.carrier, level) if ticket.carrier else []
    if not recipients:
        return None
    return _send(ticket, kind=MessageKind.CARRIER_ESCALATION, key=f"ticket:{ticket.pk}:escalate:{level}",
                 level=level, recipients=recipients, now=now)
