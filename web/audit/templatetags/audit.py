"""``{% history_link obj %}``: a link to the object's change history, for users who may see it."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from web.audit.permissions import may_view_history

register = template.Library()


def history_url(obj: Any) -> str:
    ct = ContentType.objects.get_for_model(obj)
    return reverse("audit:object_history", args=[ct.app_label, ct.model, obj.pk])


@register.simple_tag(takes_context=True)
def history_link(context: dict[str, Any], obj: Any, text: str = "") -> str:
    if obj is None or obj.pk is None:
        return ""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not may_view_history(user, ContentType.objects.get_for_model(obj)):
        return ""
    return format_html('<a class="history" href="{}">{}</a>', history_url(obj), text or _("History"))
