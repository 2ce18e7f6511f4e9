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


class OutlookRowSerializer(serializers.Serializer):
    """One line's capacity outlook (the outlook page's row): percent of the contracted capacity, days, dates."""

    line = serializers.CharField()
    line_id = serializers.IntegerField(allow_null=True)
    department = serializers.CharField()
    carrier = serializers.CharField()
    busy_hour_pct = serializers.FloatField(allow_null=True)
    p95_pct = serializers.FloatField(allow_null=True)
    growth_pct_per_month = serializers.FloatField(allow_null=True)
    days_to_80 = serializers.FloatField(allow_null=True)
    date_80 = serializers.DateField(allow_null=True)
    date_80_earliest = serializers.DateField(allow_null=True)
    date_80_latest = serializers.DateField(allow_null=True)
    days_to_95 = serializers.FloatField(allow_null=True)
    date_95 = serializers.DateField(allow_null=True)
    billing_model = serializers.CharField()
    projected = serializers.FloatField(allow_null=True, help_text="projected 95th percentile (bps) or volume (GB)")
    projected_unit = serializers.CharField(help_text="bps, GB or empty")
    projected_amount = serializers.FloatField(allow_null=True)
    month_to_date_amount = serializers.FloatField(allow_null=True)
    contracted_amount = serializers.FloatField(allow_null=True)
    currency = serializers.CharField()
    run_at = serializers.DateTimeField(allow_null=True)


class OutlookSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="why there is no outlook now (InfluxDB did not answer); empty otherwise")
    results = OutlookRowSerializer(many=True)
