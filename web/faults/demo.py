"""The demo's fault tickets (``web/demo.py`` prepare): every carrier gets a NOC contact in the demo mailbox, and
one ticket is open with the carrier's reference, so ``make run`` shows the carrier step already taken. The live
path (AMS-MPLS-1 down → line_down → the alert intake opens a ticket → the carrier's NOC is mailed) needs no seed:
``faults.notify_carrier_automatically`` is on in config/linewatch.yaml."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from linewatch.choices import ContactRole, FaultKind
from web.faults import services
from web.faults.models import Ticket
from web.inventory.models import Carrier, Contact, Line

DEMO_TICKET_LINE = "FRA-INET-1"  # not AMS-MPLS-1: its live alert opens a ticket of its own


def _noc_address(carrier: Carrier) -> str:
    return "noc@" + "".join(c for c in carrier.name.lower() if c.isalnum()) + ".example"


def seed(*, now: dt.datetime | None = None) -> int:
    """NOC contacts for carriers without one; the open demo ticket (none if any ticket exists). Returns the
    number of tickets created."""
    for carrier in Carrier.objects.exclude(contacts__role=ContactRole.NOC):
        Contact.objects.create(carrier=carrier, role=ContactRole.NOC, name=f"{carrier.name} NOC",
                               email=_noc_address(carrier), notes="demo: delivered to the demo mailbox")
    if Ticket.objects.exists():
        return 0
    line = Line.objects.filter(name=DEMO_TICKET_LINE).first() or Line.objects.order_by("name").first()
    if line is None:
        return 0
    now = now or timezone.now()
    ticket = services.open_ticket(
        acting_user=None, kind=FaultKind.DEGRADED, line=line, affected_service="Internet access of the site",
        description="Packet loss of 2-5 % in the evenings since yesterday; users report slow video calls.",
        opened_at=now - dt.timedelta(hours=20))
    services.start_work(ticket, acting_user=None)
    services.comment(ticket, acting_user=None, carrier_answer=True, carrier_ticket_ref="DEMO-4711",
                     text="Carrier: congestion on an aggregation link, capacity added tonight.")
    return 1
