"""Filters of the ticket list (page and API): state, carrier, line, kind; ``active`` for the open ones."""

from __future__ import annotations

import django_filters

from web.faults.models import Ticket
from web.faults.models.tickets import ACTIVE_STATES


class TicketFilterSet(django_filters.FilterSet):
    active = django_filters.BooleanFilter(method="filter_active", label="active (open, notified, in progress)")

    class Meta:
        model = Ticket
        fields = ("state", "carrier", "line", "kind", "outage", "cause")

    def filter_active(self, queryset, name, value):
        return queryset.filter(state__in=ACTIVE_STATES) if value else queryset.exclude(state__in=ACTIVE_STATES)
