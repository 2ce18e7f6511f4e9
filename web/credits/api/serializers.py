"""Serializers of the credits API: a match as read (its credit row and dispute in brief), and the inputs of the
decisions (field types only: the rules are the services')."""

from __future__ import annotations

from rest_framework import serializers

from web.credits import services
from web.credits.models import CreditMatch
from web.invoices.models import InvoiceRow


class CreditRowSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    carrier = serializers.IntegerField(source="invoice.carrier_id", read_only=True)
    carrier_name = serializers.CharField(source="invoice.carrier.name", read_only=True)
    credited = serializers.SerializerMethodField(help_text="the amount the row gives back (positive)")

    class Meta:
        model = InvoiceRow
        fields = ("id", "invoice", "invoice_number", "carrier", "carrier_name", "idx", "circuit_id", "charge_type",
                  "period_start", "period_end", "amount", "currency", "credited", "description")

    def get_credited(self, row: InvoiceRow) -> str:
        return str(services.credited(row))


class CreditMatchSerializer(serializers.ModelSerializer):
    credit = CreditRowSerializer(source="credit_row", read_only=True)
    dispute_reference = serializers.CharField(source="dispute.reference", read_only=True)
    claimed_amount = serializers.DecimalField(source="dispute.claimed_amount", max_digits=14, decimal_places=4,
                                              read_only=True)
    dispute_state = serializers.CharField(source="dispute.state", read_only=True)

    class Meta:
        model = CreditMatch
        fields = ("id", "credit_row", "credit", "dispute", "dispute_reference", "dispute_state", "claimed_amount",
                  "score", "reasons", "state", "manual", "recovered_amount", "currency", "decided_by_name",
                  "decided_at", "note", "created", "last_updated")
        read_only_fields = fields


class ConfirmSerializer(serializers.Serializer):
    recovered_amount = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True,
        help_text="default: the credit capped at the claim")


class RejectSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class LinkSerializer(serializers.Serializer):
    credit_row = serializers.PrimaryKeyRelatedField(queryset=InvoiceRow.objects.all())
    dispute = serializers.PrimaryKeyRelatedField(queryset=services.Dispute.objects.all())
    recovered_amount = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
