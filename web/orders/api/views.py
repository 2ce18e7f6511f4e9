"""``/api/orders/``: orders (list, detail, request), ``POST /api/orders/{id}/transition/``, comments, attachments,
steps (assignee, due date) and the recovery checklist. Every change goes through :mod:`web.orders.services`, as the
pages' do: a move the caller's role does not own is 403 naming the roles that do."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from linewatch.choices import OrderKind
from web.accounts.permissions import is_permitted, restrict
from web.api import refusals
from web.api.permissions import request_token
from web.orders import services
from web.orders.api import serializers as s
from web.orders.filtersets import OrderFilterSet
from web.orders.models import Order, OrderStep, RecoveryItem

# A service call with its refusals as the API's answers: 403 naming the roles, 409, 400 naming the field.
_call = partial(refusals.call, denied=(services.NotPermitted,), unavailable=(services.NotAvailable,))


class OrderPermission(permissions.BasePermission):
    """Read: view an order. Request one: add. A move, a comment, a file, a step: view here, the role check is the
    services' (403 naming the role); a read-only token never writes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        model = view.get_queryset().model
        if request.method in permissions.SAFE_METHODS:
            return is_permitted(request.user, model, "view", token=token)
        if token is not None and not token.can_write:
            return False
        action_name = "add" if view.action == "create" else "view"
        return is_permitted(request.user, model, action_name, token=token)


class _Restricted:
    def get_queryset(self) -> QuerySet[Any]:
        return restrict(super().get_queryset(), self.request.user, "view",  # type: ignore[misc]
                        token=request_token(self.request))  # type: ignore[attr-defined]


class OrderViewSet(_Restricted, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
    queryset = Order.objects.select_related("line").prefetch_related("steps__assignee", "events",
                                                                      "recovery_items", "attachments")
    serializer_class = s.OrderSerializer
    permission_classes = (OrderPermission,)
    filterset_class = OrderFilterSet
    lookup_value_regex = r"\d+"

    @extend_schema(request=s.OrderCreateSerializer, responses={201: s.OrderSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.OrderCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        kind = OrderKind(values.pop("kind"))
        items = values.pop("recovery_items", [])
        order = _call(services.create_order, kind=kind, user=request.user, values=values, recovery_items=items)
        return Response(self._read(order), status=status.HTTP_201_CREATED)

    def _read(self, order: Order) -> dict[str, Any]:
        return s.OrderSerializer(self.get_queryset().get(pk=order.pk), context={"request": self.request}).data

    @extend_schema(request=s.OrderTransitionSerializer, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Make a move: ``{"transition": "approve", "carrier": 3, …, "comment": "…"}`` (fields per move:
        docs/orders.md)."""
        order = self.get_object()
        head = s.OrderTransitionSerializer(data=request.data)
        head.is_valid(raise_exception=True)
        name = head.validated_data["transition"]
        if name not in services.BY_NAME:
            known = ", ".join(services.BY_NAME)
            raise exceptions.ValidationError({"transition": [f"unknown transition {name!r}: one of {known}"]})
        body = {k: v for k, v in request.data.items() if k != "transition"}
        values_serializer = s.move_values_serializer(name)(data=body, partial=True)
        values_serializer.is_valid(raise_exception=True)
        values = dict(values_serializer.validated_data)
        comment = values.pop("comment", "")
        order = _call(services.transition, order, name, user=request.user, values=values, text=comment)
        return Response(self._read(order))

    @extend_schema(request=s.OrderCommentSerializer, responses={201: s.OrderEventSerializer})
    @action(detail=True, methods=["post"])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        body = s.OrderCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = _call(services.comment, order, user=request.user, text=body.validated_data["text"])
        return Response(s.OrderEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, "title": {"type": "string"}}}},
        responses={201: s.OrderAttachmentSerializer})
    @action(detail=True, methods=["post"], parser_classes=(MultiPartParser, FormParser))
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        attachment = _call(services.add_attachment, order, user=request.user, upload=request.FILES.get("file"),
                           title=request.data.get("title", ""))
        return Response(s.OrderAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class OrderStepViewSet(_Restricted, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                       viewsets.GenericViewSet):
    """A step's assignee and due date (PATCH); the assignee is told by the outbox."""

    queryset = OrderStep.objects.select_related("order", "assignee")
    serializer_class = s.OrderStepSerializer
    permission_classes = (OrderPermission,)
    filterset_fields = ("order", "assignee", "stage")
    parser_classes = (JSONParser, FormParser)

    def perform_update(self, serializer: s.OrderStepSerializer) -> None:
        step = serializer.instance
        data = serializer.validated_data
        serializer.instance = _call(services.assign_step, step, user=self.request.user,
                                    assignee=data.get("assignee", step.assignee),
                                    due_date=data.get("due_date", step.due_date))


class RecoveryItemViewSet(_Restricted, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                          viewsets.GenericViewSet):
    """A termination's equipment-recovery checklist: ``PATCH {"done": true}``."""

    queryset = RecoveryItem.objects.select_related("order")
    serializer_class = s.RecoveryItemSerializer
    permission_classes = (OrderPermission,)
    filterset_fields = ("order", "done")

    def perform_update(self, serializer: s.RecoveryItemSerializer) -> None:
        serializer.instance = _call(services.set_recovery_item, serializer.instance, user=self.request.user,
                                    done=serializer.validated_data.get("done", serializer.instance.done))
