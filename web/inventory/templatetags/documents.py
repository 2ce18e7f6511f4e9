"""``{% document_section parent as docs %}``: what the documents section (inventory/_documents.html) shows."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def document_section(context: template.Context, parent: Any) -> dict[str, Any]:
    """The documents of ``parent`` the user may see, whether they may attach and delete, and the upload form (the
    bound one of a failed upload when the view gives it as ``document_form``)."""
    from web.inventory.document_views import section_context

    return section_context(parent, context["request"].user, context.get("document_form"))
