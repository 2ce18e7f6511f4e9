"""The inspections' API: plans (CRUD: engineers, admins), inspections (read; ``perform``: the NOC, engineers)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from web.accounts.permissions import restrict
from web.api.permissions import IsAuthenticated, request_token
from web.api.serializers import field_errors
from web.api.viewsets import ModelViewSet
from web.inspections import services
from web.inspections.api import serializers
from web.inspections.models import Inspection, InspectionPlan


class InspectionPlanViewSet(ModelViewSet):
    queryset = InspectionPlan.objects.select_related("site", "assignee").prefetch_related("lines")
    serializer_class = serializers.InspectionPlanSerializer
    filterset_fields = ("site", "active", "assignee")

    def perform_create(self, serializer: Any) -> None:
        super().perform_create(serializer)
        services.schedule(serializer.instance)

    def perform_update(self, serializer: Any) -> None:
        super().perform_update(serializer)
        services.schedule(serializer.instance)


class InspectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Inspection.objects.select_related("plan").prefetch_related("results")
    serializer_class = serializers.InspectionSerializer
    filterset_fields = ("plan", "state", "due")

    def get_queryset(self) -> Any:
        return restrict(super().get_queryset(), self.request.user, token=request_token(self.request))

    @extend_schema(request=serializers.PerformSerializer, responses=serializers.InspectionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def perform(self, request: Request, pk: str | None = None) -> Response:
        """Record the inspection as performed: every item's result (``open_ticket`` for a failed one opens a
        fault ticket). 403 unless the role may change inspections (and add tickets, when asked)."""
        inspection = self.get_object()
        body = serializers.PerformSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = [services.ItemResult(**item) for item in body.validated_data["results"]]
        try:
            done = services.perform(inspection, user=request.user, results=results,
                                    follow_up=body.validated_data["follow_up"], token=request_token(request))
        except DjangoValidationError as exc:
            raise ValidationError(field_errors(exc)) from None
        return Response(serializers.InspectionSerializer(Inspection.objects.get(pk=done.pk)).data)
