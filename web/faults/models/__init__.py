"""Models of the faults app: tickets, their append-only timeline, alert intake receipts and SLA-credit claims."""

from web.faults.models.claims import SlaClaim
from web.faults.models.tickets import AlertReceipt, Ticket, TicketEvent

__all__ = ["AlertReceipt", "SlaClaim", "Ticket", "TicketEvent"]
