"""``{% messages_about obj as messages %}``: the outbox messages about an object (``notify/_messages.html``)."""

from __future__ import annotations

from typing import Any

from django import template

from linewatch.choices import DeliveryStatus
from web.notify.labels import STATUS_LABELS

register = template.Library()


@register.simple_tag
def messages_about(obj: Any) -> Any:
    from web.notify.outbox import messages_about as query

    return query(obj)[:50] if obj is not None else []


@register.filter
def delivery_status(value: str) -> Any:
    return STATUS_LABELS.get(DeliveryStatus(value), value) if value in set(DeliveryStatus) else value
