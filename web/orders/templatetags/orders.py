"""``{% line_orders line as orders %}``: a line's orders with their events (the line page's lifecycle timeline)."""

from __future__ import annotations

from typing import Any

from django import template

from web.accounts.permissions import restrict

register = template.Library()


@register.simple_tag(takes_context=True)
def line_orders(context: dict[str, Any], line: Any) -> Any:
    from web.orders.models import Order

    request = context.get("request")
    orders = Order.objects.filter(line=line).prefetch_related("events").order_by("pk")
    return list(restrict(orders, getattr(request, "user", None)))
