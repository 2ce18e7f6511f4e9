"""Serializers of the findings API: findings, suppression rules and disputes as read (with the moves the caller
may make), and the inputs of the moves (field types only: the rules are the services')."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from linewatch.choices import DisputeOutcome, Language
from web.api.serializers import ValidatedModelSerializer
from web.findings import services
from web.findings.models import Dispute, DisputeEvent, Finding, SuppressionRule

MONEY = {"max_digits": 14, "decimal_places": 4}
ID_MAX = 2**63 - 1


class _Moves(serializers.Serializer):
    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_transitions(self, obj: Any) -> list[str]:
        request = self.context.get("request")
        return [m.name for m in services.available_moves(obj, getattr(request, "user", None))] if request else []


class FindingSerializer(_Moves, serializers.ModelSerializer):
    display_id = serializers.CharField(read_only=True)
    transitions = serializers.SerializerMethodField(help_text="the moves the caller may make now")

    class Meta:
        model = Finding
        fields = ("id", "display_id", "key", "period", "rule", "carrier", "carrier_name", "invoice",
                  "invoice_number", "line", "line_name", "circuit_id", "charge_key", "amount_at_stake",
                  "recoverable", "currency", "reason", "department", "source", "state", "state_reason",
                  "suppressed_by", "dispute", "present", "first_seen_at", "last_seen_at", "transitions")
        read_only_fields = fields


class FindingTransitionSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=["accept", "reopen"])
    reason = serializers.CharField(required=False, allow_blank=True, help_text="accept: why the charge is right")


class BulkAcceptSerializer(serializers.Serializer):
    findings = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), min_length=1)
    reason = serializers.CharField(allow_blank=True)


class SuppressionRuleSerializer(ValidatedModelSerializer):
    class Meta:
        model = SuppressionRule
        fields = ("id", "rule", "carrier", "line", "circuit_id", "max_amount", "currency", "reason", "expires_on",
                  "created_by_name", "created", "last_updated")
        read_only_fields = ("created_by_name", "created", "last_updated")


class DisputeEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = DisputeEvent
        fields = ("id", "time", "kind", "actor_name", "transition", "source", "target", "text", "data")


class DisputeSerializer(_Moves, serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    findings = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    events = DisputeEventSerializer(many=True, read_only=True)
    transitions = serializers.SerializerMethodField(help_text="the moves the caller may make now")

    class Meta:
        model = Dispute
        fields = ("id", "reference", "carrier", "state", "outcome", "claimed_amount", "recovered_amount",
                  "currency", "language", "carrier_reference", "carrier_answer", "opened_by_name", "opened_at",
                  "sent_at", "answered_at", "resolved_at", "period", "evidence_pdf_name", "evidence_xlsx_name",
                  "findings", "events", "transitions")
        read_only_fields = fields


class DisputeCreateSerializer(serializers.Serializer):
    findings = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), min_length=1)
    claimed_amount = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    language = serializers.ChoiceField(choices=[x.value for x in Language], required=False, allow_null=True)


class DisputeTransitionSerializer(serializers.Serializer):
    """``send``; ``answer`` with ``answer`` (and ``reference``); ``resolve_dispute`` with ``outcome``,
    ``recovered_amount`` (and ``note``); ``note`` with ``text``."""

    transition = serializers.ChoiceField(choices=["send", "answer", "resolve_dispute", "note"])
    reference = serializers.CharField(required=False, allow_blank=True, max_length=128)
    answer = serializers.CharField(required=False, allow_blank=True)
    outcome = serializers.ChoiceField(choices=[o.value for o in DisputeOutcome], required=False)
    recovered_amount = serializers.DecimalField(**MONEY, required=False)
    note = serializers.CharField(required=False, allow_blank=True)
    text = serializers.CharField(required=False, allow_blank=True)
