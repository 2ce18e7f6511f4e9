"""Line list filters (django-filter): search, carrier, site, department, status, type; sorting."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from linewatch.choices import LineStatus, LineType
from web.api.filters import BoundedModelMultipleChoiceFilter
from web.inventory.models import Carrier, Department, Line, Site
from web.labels import choices_of


class LineFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    carrier = BoundedModelMultipleChoiceFilter(queryset=Carrier.objects.all(), label=_("Carrier"))
    site = BoundedModelMultipleChoiceFilter(queryset=Site.objects.all(), label=_("Site"))
    department = BoundedModelMultipleChoiceFilter(queryset=Department.objects.all(), label=_("Department"))
    status = django_filters.MultipleChoiceFilter(choices=choices_of(LineStatus), label=_("Status"))
    type = django_filters.MultipleChoiceFilter(choices=choices_of(LineType), label=_("Type"))
    sort = django_filters.OrderingFilter(
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
