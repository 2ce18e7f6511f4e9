"""Serializers of the fault tickets: read the ticket with its timeline; write through the service functions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from linewatch.choices import FaultCause, SlaClaimState
from web.faults.models import SlaClaim, Ticket, TicketEvent

STEP_NAMES = ("notify_carrier", "start_work", "resolve", "close", "reopen")


class TicketEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketEvent
        fields = ("id", "time", "kind", "user_name", "text", "from_state", "to_state", "data")


class TicketSerializer(serializers.ModelSerializer):
    """Create: kind, line or location, affected service, description, outage. The state moves by
    ``POST …/transition/``; ``PATCH`` changes the working fields."""

    duration_s = serializers.IntegerField(read_only=True, allow_null=True, help_text="opened to resolved (MTTR)")
    events = TicketEventSerializer(many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = ("id", "line", "carrier", "site", "kind", "location", "affected_service", "description", "reporter",
                  "assignee", "state", "opened_at", "resolved_at", "closed_at", "duration_s", "cause",
                  "review_note", "outage", "alert_rule", "alert_key", "alert_group_key", "carrier_ticket_ref",
                  "carrier_notified_at", "escalation_level", "last_activity_at", "events")
        read_only_fields = ("carrier", "site", "reporter", "state", "opened_at", "resolved_at", "closed_at", "cause",
                            "alert_rule", "alert_key", "alert_group_key", "carrier_notified_at", "escalation_level",
                            "last_activity_at")


class TicketUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ("assignee", "carrier_ticket_ref", "outage", "review_note", "affected_service", "description",
                  "location")


class TicketTransitionSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=STEP_NAMES)
    cause = serializers.ChoiceField(choices=[c.value for c in FaultCause], required=False, allow_blank=True)
    review_note = serializers.CharField(required=False, allow_blank=True)
    text = serializers.CharField(required=False, allow_blank=True, help_text="why (reopen)")

    def step_kwargs(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        step = data.pop("step")
        allowed = {"resolve": ("cause", "review_note"), "close": ("cause", "review_note"), "reopen": ("text",)}
        return {k: v for k, v in data.items() if k in allowed.get(step, ())}


class TicketCommentSerializer(serializers.Serializer):
    text = serializers.CharField()
    carrier_answer = serializers.BooleanField(default=False, help_text="the carrier's answer (by phone or mail)")
    carrier_ticket_ref = serializers.CharField(required=False, allow_blank=True, max_length=128)


class SlaClaimSerializer(serializers.ModelSerializer):
    finding_rule = serializers.CharField(read_only=True, help_text="with line and period: the billing finding")

    class Meta:
        model = SlaClaim
        fields = ("id", "line", "period", "availability_pct", "target_pct", "credit_pct", "amount", "currency",
                  "outage_s", "state", "tickets", "note", "finding_rule")
        read_only_fields = tuple(f for f in fields if f not in ("state", "note"))

    def validate_state(self, value: str) -> str:
        return SlaClaimState(value).value


class IntakeResultSerializer(serializers.Serializer):
    opened = serializers.ListField(child=serializers.IntegerField())
    updated = serializers.ListField(child=serializers.IntegerField())
    resolved = serializers.ListField(child=serializers.IntegerField())
    ignored = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    repeat = serializers.BooleanField()
