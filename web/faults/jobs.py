"""Periodic jobs of the faults app (run by ``linewatch_worker``, registered in ``FaultsConfig.linewatch_jobs``)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from linewatch.choices import TicketState
from web.faults import services
from web.faults.models import Ticket

log = logging.getLogger(__name__)
ESCALATING_STATES = (TicketState.CARRIER_NOTIFIED, TicketState.IN_PROGRESS)


def escalate_overdue(now: dt.datetime | None = None) -> list[int]:
    """Escalate every ticket whose carrier was mailed and that has had no update for ``faults.escalate_after_h``
    hours (each escalation is an update: the next level waits as long again). Returns the tickets escalated."""
    now = now or timezone.now()
    due = now - dt.timedelta(hours=settings.LINEWATCH.faults.escalate_after_h)
    escalated = []
    for ticket in Ticket.objects.filter(state__in=ESCALATING_STATES, escalation_level__gte=1, carrier__isnull=False,
                                        last_activity_at__lte=due).select_related("line", "carrier", "site"):
        if services.escalate(ticket, now=now):
            log.info("ticket %d escalated to level %d", ticket.pk, ticket.escalation_level)
            escalated.append(ticket.pk)
    return escalated
