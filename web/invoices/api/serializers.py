"""Serializers of the invoices API: the invoice as read (rows, history, the moves the caller may make) and the
inputs of each move (field types only: the rules are the services')."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from web.invoices import services
from web.invoices.models import Invoice, InvoiceEvent, InvoiceRow


class InvoiceRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceRow
        fields = ("id", "idx", "circuit_id", "line", "charge_type", "period_start", "period_end", "quantity",
                  "unit_price", "amount", "currency", "description", "source_file", "source_row", "charge_key")


class InvoiceEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceEvent
        fields = ("id", "time", "actor_name", "transition", "source", "target", "text", "data")


class InvoiceSerializer(serializers.ModelSerializer):
    carrier_name = serializers.CharField(source="carrier.name", read_only=True)
    overdue = serializers.BooleanField(read_only=True)
    rows = InvoiceRowSerializer(many=True, read_only=True)
    events = InvoiceEventSerializer(many=True, read_only=True)
    transitions = serializers.SerializerMethodField(help_text="the moves the caller may make now")

    class Meta:
        model = Invoice
        exclude = ("approved_by",)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_transitions(self, invoice: Invoice) -> list[str]:
        request = self.context.get("request")
        return [m.name for m in services.available_moves(invoice, getattr(request, "user", None))] if request else []


class ApproveSerializer(serializers.Serializer):
    withhold_disputed = serializers.BooleanField(help_text="withhold the disputed findings' recoverable amounts")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ScheduleSerializer(serializers.Serializer):
    payment_date = serializers.DateField(help_text="on or before the due date")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class PaidSerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    reference = serializers.CharField(max_length=128)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


def values(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    body = serializer_class(data=data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)
