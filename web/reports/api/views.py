"""The reports' API: schedules (CRUD: engineers, finance, admins; read: the NOC too) and the sent reports (read,
with their PDF and HTML files), with the pages' permissions (``reports.<action>_<model>``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linewatch.choices import ReportFormat
from web.accounts.permissions import restrict
from web.api.permissions import request_token
from web.api.viewsets import ModelViewSet
from web.inventory.models import Line
from web.reports.api import serializers
from web.reports.models import ReportDelivery, ReportSchedule
from web.reports.views import delivery_file_response, outlook_for


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


class OutlookViewSet(viewsets.GenericViewSet):
    """``GET /api/reports/outlook/``: every line's capacity outlook, soonest first (the outlook page's rows;
    ``?department=NAME``), as ``{"error": "", "results": [...]}``. When InfluxDB does not answer, ``error`` names
    the failure and ``results`` is empty, as the page says it (the inventory is still there; only the forecast is
    not)."""

    queryset = Line.objects.none()  # the permission's model: whoever sees the lines sees their outlook
    serializer_class = serializers.OutlookSerializer
    filter_backends = ()
    pagination_class = None

    @extend_schema(parameters=[OpenApiParameter("department", str, description="a department's name")])
    def list(self, request: Request) -> Response:
        rows, error = outlook_for(request.user, department=request.query_params.get("department", ""),
                                  token=request_token(request))
        body = {"error": f"InfluxDB did not answer ({error})" if error else "",
                "results": [dataclasses.asdict(r) for r in rows]}
        return Response(serializers.OutlookSerializer(body).data)
