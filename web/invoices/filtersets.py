"""The invoice list's filters (page, exports and API): state, carrier, period, due between, overdue."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linewatch.choices import InvoiceState
from web.inventory.models import Carrier
from web.invoices.labels import choices_of
from web.invoices.models import Invoice
from web.invoices.workflow import UNPAID


class _DateInput(django_filters.widgets.forms.DateInput):
    input_type = "date"


class InvoiceFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("state"), choices=choices_of(InvoiceState))
    carrier = django_filters.ModelChoiceFilter(label=_("carrier"), queryset=Carrier.objects.all())
    period = django_filters.CharFilter(label=_("period (YYYY-MM)"))
    due_after = django_filters.DateFilter(label=_("due on or after"), field_name="due_date", lookup_expr="gte",
                                          widget=_DateInput())
    due_before = django_filters.DateFilter(label=_("due on or before"), field_name="due_date", lookup_expr="lte",
                                           widget=_DateInput())
    overdue = django_filters.BooleanFilter(label=_("overdue"), method="filter_overdue")

    class Meta:
        model = Invoice
        fields = ("state", "carrier", "period")

    def filter_overdue(self, queryset: QuerySet[Invoice], name: str, value: Any) -> QuerySet[Invoice]:
        if value is None:
            return queryset
        late = {"state__in": [s.value for s in UNPAID], "due_date__lt": timezone.localdate()}
        return queryset.filter(**late) if value else queryset.exclude(**late)
