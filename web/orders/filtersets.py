"""The order list's filters (page and API): kind, state, line, assignee of an open step, "my steps"."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from linewatch.choices import ChangeKind, OrderKind, OrderState
from web.inventory.models import Line
from web.orders.labels import choices_of
from web.orders.models import Order


class OrderFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=choices_of(OrderKind))
    state = django_filters.ChoiceFilter(label=_("state"), choices=choices_of(OrderState))
    change_kind = django_filters.ChoiceFilter(label=_("change"), choices=choices_of(ChangeKind))
    line = django_filters.ModelChoiceFilter(label=_("line"), queryset=Line.objects.all())
    assignee = django_filters.ModelChoiceFilter(label=_("assignee"), queryset=get_user_model().objects.all(),
                                                method="filter_assignee")
    mine = django_filters.BooleanFilter(label=_("my open steps"), method="filter_mine")

    class Meta:
        model = Order
        fields = ("kind", "state", "change_kind", "line")

    def filter_assignee(self, queryset: QuerySet[Order], name: str, value: Any) -> QuerySet[Order]:
        if value is None:
            return queryset
        return queryset.filter(steps__assignee=value, steps__done_at__isnull=True).distinct()

    def filter_mine(self, queryset: QuerySet[Order], name: str, value: Any) -> QuerySet[Order]:
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.filter(steps__assignee=user, steps__done_at__isnull=True).distinct()
