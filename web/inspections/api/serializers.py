"""Serializers of the inspections: plans (written), inspections with their results (read; performed through
``POST …/inspections/ID/perform/``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from linewatch.choices import InspectionOutcome
from web.api.serializers import ValidatedModelSerializer
from web.inspections.labels import OUTCOME_CHOICES
from web.inspections.models import Inspection, InspectionPlan, InspectionResult


class InspectionPlanSerializer(ValidatedModelSerializer):
    checklist = serializers.ListField(child=serializers.CharField(max_length=500), allow_empty=False)

    class Meta:
        model = InspectionPlan
        fields = "__all__"

    def would_be(self, attrs: dict[str, Any]) -> Any:
        return super().would_be({k: v for k, v in attrs.items() if k != "lines"})  # many-to-many: set on save


class InspectionResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = InspectionResult
        fields = ("id", "position", "item", "outcome", "note", "ticket")


class InspectionSerializer(serializers.ModelSerializer):
    results = InspectionResultSerializer(many=True, read_only=True)

    class Meta:
        model = Inspection
        fields = ("id", "plan", "due", "state", "performed_at", "performed_by", "follow_up", "results",
                  "created", "last_updated")
        read_only_fields = fields


class ItemResultSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=0)
    outcome = serializers.ChoiceField(choices=OUTCOME_CHOICES)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    open_ticket = serializers.BooleanField(required=False, default=False)

    def validate_outcome(self, value: str) -> InspectionOutcome:
        return InspectionOutcome(value)


class PerformSerializer(serializers.Serializer):
    results = ItemResultSerializer(many=True)
    follow_up = serializers.CharField(required=False, allow_blank=True, default="")
