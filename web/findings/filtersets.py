"""The findings' and disputes' list filters (pages and API)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from linewatch.choices import AuditRule, DisputeState, FindingState
from web.findings.labels import choices_of
from web.findings.models import Dispute, Finding, SuppressionRule
from web.inventory.models import Carrier


class FindingFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("state"), choices=choices_of(FindingState))
    rule = django_filters.ChoiceFilter(label=_("rule"), choices=choices_of(AuditRule))
    carrier = django_filters.ModelChoiceFilter(label=_("carrier"), queryset=Carrier.objects.all())
    period = django_filters.CharFilter(label=_("period (YYYY-MM)"))
    present = django_filters.BooleanFilter(label=_("in the latest audit"))
    dispute = django_filters.ModelChoiceFilter(label=_("dispute"), queryset=Dispute.objects.all())
    suppressed_by = django_filters.ModelChoiceFilter(label=_("suppression rule"),
                                                     queryset=SuppressionRule.objects.all())
    q = django_filters.CharFilter(label=_("search"), method="filter_q")

    class Meta:
        model = Finding
        fields = ("state", "rule", "carrier", "period", "present", "dispute", "suppressed_by")

    def filter_q(self, queryset, name, value):  # type: ignore[no-untyped-def]
        from django.db.models import Q

        if not value:
            return queryset
        return queryset.filter(Q(line_name__icontains=value) | Q(circuit_id__icontains=value)
                               | Q(invoice_number__icontains=value) | Q(reason__icontains=value))


class DisputeFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("state"), choices=choices_of(DisputeState))
    carrier = django_filters.ModelChoiceFilter(label=_("carrier"), queryset=Carrier.objects.all())
    period = django_filters.CharFilter(label=_("period (YYYY-MM)"))

    class Meta:
        model = Dispute
        fields = ("state", "carrier", "period")
