"""Serializers of the orders API: the order as read (with its steps, history, checklist, attachments and the moves
the caller may make), and the inputs of a request and of each move (field types only: the rules are the services')."""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from linewatch.choices import OrderKind
from web.orders import services
from web.orders.models import Order, OrderAttachment, OrderEvent, OrderStep, RecoveryItem


class OrderStepSerializer(serializers.ModelSerializer):
    assignee_name = serializers.SerializerMethodField()

    class Meta:
        model = OrderStep
        fields = ("id", "order", "position", "stage", "assignee", "assignee_name", "due_date", "done_at",
                  "done_by_name")
        read_only_fields = ("order", "position", "stage", "done_at", "done_by_name")

    def get_assignee_name(self, step: OrderStep) -> str:
        return step.assignee.get_username() if step.assignee_id else ""


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ("id", "time", "kind", "actor_name", "transition", "source", "target", "text", "data")


class RecoveryItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecoveryItem
        fields = ("id", "order", "name", "done", "done_by_name", "done_at")
        read_only_fields = ("order", "name", "done_by_name", "done_at")


class OrderAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderAttachment
        fields = ("id", "title", "file_name", "size_bytes", "sha256", "content_type", "uploaded_by_name",
                  "uploaded_at")


class OrderSerializer(serializers.ModelSerializer):
    steps = OrderStepSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)
    recovery_items = RecoveryItemSerializer(many=True, read_only=True)
    attachments = OrderAttachmentSerializer(many=True, read_only=True)
    transitions = serializers.SerializerMethodField(help_text="the moves the caller may make now")

    class Meta:
        model = Order
        exclude = ("requester",)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_transitions(self, order: Order) -> list[str]:
        request = self.context.get("request")
        return [m.name for m in services.available_moves(order, getattr(request, "user", None))] if request else []


_REQUEST_FIELDS = tuple(dict.fromkeys(f for fields in services.REQUEST_FIELDS.values() for f in fields))


class OrderCreateSerializer(serializers.ModelSerializer):
    """A request: ``kind`` and the fields of that kind (docs/orders.md); ``recovery_items`` for a termination."""

    kind = serializers.ChoiceField(choices=[k.value for k in OrderKind])
    recovery_items = serializers.ListField(child=serializers.CharField(max_length=200), required=False)

    class Meta:
        model = Order
        fields = ("kind", *_REQUEST_FIELDS, "recovery_items")
        extra_kwargs: ClassVar[dict[str, dict[str, bool]]] = {name: {"required": False} for name in _REQUEST_FIELDS}


@cache
def move_values_serializer(move: str) -> type[serializers.ModelSerializer]:
    """The input of ``move``: its fields (services.MOVE_FIELDS), each optional; ``comment`` a text for the history."""
    names = services.MOVE_FIELDS.get(move, ())

    class Meta:
        model = Order
        fields = (*names, "comment")
        extra_kwargs: ClassVar[dict[str, dict[str, bool]]] = {name: {"required": False} for name in names}

    attrs: dict[str, Any] = {"Meta": Meta, "comment": serializers.CharField(required=False, allow_blank=True)}
    return type(f"{move.title().replace('_', '')}Values", (serializers.ModelSerializer,), attrs)


class OrderTransitionSerializer(serializers.Serializer):
    transition = serializers.CharField(help_text="the move: approve, place_order, install, … (docs/orders.md)")
    comment = serializers.CharField(required=False, allow_blank=True)


class OrderCommentSerializer(serializers.Serializer):
    text = serializers.CharField()
