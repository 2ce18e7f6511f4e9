"""Filters of the intake's file list (page and API alike)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from web.intake.labels import OUTCOME_CHOICES, SOURCE_CHOICES
from web.intake.models import IntakeFile
from web.inventory.models import Carrier


class IntakeFileFilterSet(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(label=_("outcome"), choices=OUTCOME_CHOICES)
    source = django_filters.ChoiceFilter(label=_("source"), choices=SOURCE_CHOICES)
    carrier = django_filters.ModelChoiceFilter(label=_("carrier"), queryset=Carrier.objects.all())
    filename = django_filters.CharFilter(label=_("file name"), lookup_expr="icontains")

    class Meta:
        model = IntakeFile
        fields = ("outcome", "source", "carrier", "filename")
