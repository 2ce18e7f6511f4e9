"""``{% open_tickets line as tickets %}``: the active tickets of a line (the line page's include)."""

from __future__ import annotations

from typing import Any

from django import template

from web.faults.models import Ticket

register = template.Library()


@register.simple_tag(takes_context=True)
def open_tickets(context: Any, line: Any) -> list[Ticket]:
    user = context["request"].user
    if not user.has_perm("faults.view_ticket"):
        return []
    return list(Ticket.objects.active().filter(line=line).order_by("-opened_at"))
