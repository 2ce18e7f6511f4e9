"""Serializers of the reports' API: schedules (written; the period follows the report, the next run is the
worker's) and deliveries (read; their files through ``…/deliveries/ID/pdf/`` and ``…/html/``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from web.api.serializers import ValidatedModelSerializer
from web.reports import engine
from web.reports.models import ReportDelivery, ReportSchedule


@extend_schema_field({"type": "array", "items": {
    "type": "object", "description": "exactly one of user (a user's id), receiver (an alerts.yaml receiver's "
                                     "name) or email (an address)",
    "properties": {"user": {"type": "integer"}, "receiver": {"type": "string"}, "email": {"type": "string"}}}})
class RecipientsField(serializers.JSONField):
    pass


class ReportScheduleSerializer(ValidatedModelSerializer):
    recipients = RecipientsField()

    class Meta:
        model = ReportSchedule
        fields = ("id", "name", "report", "period_kind", "language", "department", "recipients", "send_hour",
                  "enabled", "next_run", "created", "last_updated")
        read_only_fields = ("period_kind", "next_run", "created", "last_updated")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        name = attrs.get("report", getattr(self.instance, "report", None))
        defn = next((d for d in engine.definitions() if d.name == name), None)
        if defn is not None:  # a schedule follows its report's period (an unknown report: the model says so)
            attrs = {**attrs, "period_kind": defn.period_kind.value}
        return super().validate(attrs)


class ReportDeliverySerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportDelivery
        fields = ("id", "schedule", "report", "period", "language", "department", "title", "state", "pdf_size",
                  "message", "attempts", "error", "rendered_at", "sent_at", "pdf_url", "html_url", "created",
                  "last_updated")
        read_only_fields = fields

    def get_pdf_url(self, delivery: ReportDelivery) -> str | None:
        return reverse("api:reports-api:reportdelivery-pdf", args=[delivery.pk]) if delivery.pdf_file else None

    def get_html_url(self, delivery: ReportDelivery) -> str | None:
        return reverse("api:reports-api:reportdelivery-html", args=[delivery.pk]) if delivery.html_file else None
