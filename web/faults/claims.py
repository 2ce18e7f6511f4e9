"""SLA-credit claims: when an outage ticket resolves, the month's availability of its line from the outage tickets,
and below the contract's target a claim with the credit of the contract's tiers (billing_etl's own rules).

The month is the billing period in the site's time zone; the availability is the share of the month's seconds not
covered by an outage ticket (overlapping tickets counted once).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from billing_etl import config as billing
from billing_etl.audit import expected_mrc
from billing_etl.model import Period, money
from linewatch.choices import SlaClaimState, TicketEventKind
from web.faults.figures import Outage, line_figures, month_bounds
from web.faults.models import SlaClaim, Ticket
from web.faults.services import add_event

PCT_STEP = Decimal("0.0001")


def merged_seconds(intervals: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> int:
    """Seconds of ``start..end`` covered by at least one interval (overlaps counted once): the downtime of
    :func:`web.faults.figures.line_figures`, which the reliability figures use too."""
    outages = [Outage("", a.timestamp(), b.timestamp()) for a, b in intervals]
    return round(line_figures(outages, start_s=start.timestamp(), end_s=end.timestamp()).downtime_s)


def availability_pct(outage_s: int, period_s: int) -> Decimal:
    return (Decimal(100) * (period_s - outage_s) / period_s).quantize(PCT_STEP)


def record_sla_claim(ticket: Ticket) -> SlaClaim | None:
    """Create or update the claim of ``ticket``'s line and month when its availability is below the SLA target."""
    line = ticket.line
    contract = getattr(line, "contract", None)
    if line is None or contract is None or contract.sla_target_pct is None or ticket.resolved_at is None:
        return None
    terms = billing.Contract.model_validate(contract.as_config())
    if terms.sla is None:
        return None
    tz = ZoneInfo(settings.TIME_ZONE)
    period = Period.containing(ticket.resolved_at.astimezone(tz).date())
    start, end = (dt.datetime.fromtimestamp(t, tz) for t in month_bounds(period.year, period.month, tz))
    tickets = list(Ticket.objects.filter(line=line, outage=True, resolved_at__isnull=False, opened_at__lt=end,
                                         resolved_at__gt=start))
    outage_s = merged_seconds([(t.opened_at, t.resolved_at) for t in tickets], start, end)
    availability = availability_pct(outage_s, int((end - start).total_seconds()))
    if availability >= terms.sla.target_pct:
        return None
    credit_pct = terms.sla.credit_pct(availability)
    currency = terms.currency or line.carrier.currency
    amount = money(expected_mrc(terms, period.first_day, period.last_day) * credit_pct / 100, currency)
    claim, created = SlaClaim.objects.get_or_create(line=line, period=str(period), defaults={
        "availability_pct": availability, "target_pct": terms.sla.target_pct, "credit_pct": credit_pct,
        "amount": amount, "currency": currency, "outage_s": outage_s})
    if not created:
        claim.availability_pct, claim.credit_pct, claim.amount, claim.outage_s = availability, credit_pct, amount, outage_s
        if claim.state == SlaClaimState.REJECTED:
            claim.state = SlaClaimState.OPEN
        claim.save()
    claim.tickets.add(*tickets)
    add_event(ticket, TicketEventKind.SLA_CLAIM, data={"claim": claim.pk, "period": claim.period,
                                                        "availability_pct": str(availability),
                                                        "amount": str(amount), "currency": currency})
    return claim
