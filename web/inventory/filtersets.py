"""Line list filters (django-filter): search, carrier, site, department, status, type; sorting.

The selects render their options in Python (:class:`PlainSelect`): Django's own widgets render each
``<option>`` through a template include, which cost the line list ~20 ms per request (bench ``web-lines``)."""

from __future__ import annotations

from html import escape as escape_html
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from linewatch.choices import LineStatus, LineType
from web.api.filters import BoundedModelMultipleChoiceFilter
from web.inventory.models import Carrier, Department, Line, Site
from web.labels import choices_of

# Escaped by html.escape, as Django's escape() does (without its lazy-string wrapper).
_OPTION = '<option value="{}"{}>{}</option>'
_SELECTED = " selected"


class PlainSelect(forms.Select):
    """A ``<select>`` whose options are formatted in Python, not one template include each (same HTML, escaped
    the same way); flat choices only (no option groups)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:
        chosen = set(self.format_value(value))
        options = mark_safe("".join(_OPTION.format(escape_html(key), _SELECTED if key in chosen else "",
                                                   escape_html(str(label)))
                                    for key, label in ((str(v), label) for v, label in self.choices)))
        final = self.build_attrs(self.attrs, attrs) | ({"multiple": True} if self.allow_multiple_selected else {})
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)


class PlainSelectMultiple(PlainSelect, forms.SelectMultiple):
    allow_multiple_selected = True


def _model_filter(model: type, label: Any) -> BoundedModelMultipleChoiceFilter:
    return BoundedModelMultipleChoiceFilter(queryset=model.objects.all(), label=label, widget=PlainSelectMultiple)


def _choice_filter(enum: type, label: Any) -> django_filters.MultipleChoiceFilter:
    return django_filters.MultipleChoiceFilter(choices=choices_of(enum), label=label, widget=PlainSelectMultiple)


class LineFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    carrier = _model_filter(Carrier, _("Carrier"))
    site = _model_filter(Site, _("Site"))
    department = _model_filter(Department, _("Department"))
    status = _choice_filter(LineStatus, _("Status"))
    type = _choice_filter(LineType, _("Type"))
    sort = django_filters.OrderingFilter(
        widget=PlainSelect,
        fields=(("name", "name"), ("carrier__name", "carrier"), ("circuit_id", "circuit_id"),
                ("site__name", "site"), ("department__name", "department"), ("status", "status"),
                ("type", "type"), ("capacity_bps", "capacity_bps")),
        field_labels={"name": _("Line id"), "carrier__name": _("Carrier"), "circuit_id": _("Circuit id"),
                      "site__name": _("Site"), "department__name": _("Department"), "status": _("Status"),
                      "type": _("Type"), "capacity_bps": _("Capacity")},
        label=_("Sort"),
    )

    class Meta:
        model = Line
        fields = ("q", "carrier", "site", "department", "status", "type")

    def search(self, queryset: QuerySet[Line], name: str, value: str) -> QuerySet[Line]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(circuit_id__icontains=value) | Q(description__icontains=value)
            | Q(members__interface__icontains=value) | Q(members__device__name__icontains=value)
        ).distinct()
