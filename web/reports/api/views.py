"""The reports' API: schedules (CRUD: engineers, finance, admins; read: the NOC too) and the sent reports (read,
with their PDF and HTML files), with the pages' permissions (``reports.<action>_<model>``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request

from linewatch.choices import ReportFormat
from web.accounts.permissions import restrict
from web.api.permissions import request_token
from web.api.viewsets import ModelViewSet
from web.reports.api import serializers
from web.reports.models import ReportDelivery, ReportSchedule
from web.reports.views import delivery_file_response


class ReportScheduleViewSet(ModelViewSet):
    queryset = ReportSchedule.objects.select_related("department")
    serializer_class = serializers.ReportScheduleSerializer
    filterset_fields = ("report", "period_kind", "language", "department", "enabled")


_FILE = {(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="the file, as an "
                                                                                             "attachment")}


class ReportDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ReportDelivery.objects.all()
    serializer_class = serializers.ReportDeliverySerializer
    filterset_fields = ("schedule", "report", "period", "state", "language")

    def get_queryset(self) -> Any:
        return restrict(super().get_queryset(), self.request.user, token=request_token(self.request))

    @extend_schema(responses=_FILE)
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The delivery's PDF, as sent (404 when it has none or the file is gone)."""
        return delivery_file_response(self.get_object(), ReportFormat.PDF)

    @extend_schema(responses=_FILE)
    @action(detail=True, methods=["get"])
    def html(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The delivery's HTML, as rendered with the PDF."""
        return delivery_file_response(self.get_object(), ReportFormat.HTML)
