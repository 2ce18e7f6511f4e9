"""The finance API: budgets (CRUD: finance; read: every role), actual costs (read), the KPIs (read,
``GET /api/finance/kpis/?year=YYYY``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from web.accounts.permissions import restrict
from web.api.permissions import request_token
from web.api.viewsets import ModelViewSet
from web.finance import figures
from web.finance.api import serializers
from web.finance.kpis import dispute_kpis
from web.finance.models import Budget, CostActual


class BudgetViewSet(ModelViewSet):
    queryset = Budget.objects.select_related("department", "cost_centre")
    serializer_class = serializers.BudgetSerializer
    filterset_fields = ("scope", "department", "cost_centre", "year", "month", "currency")


class CostActualViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = CostActual.objects.all()
    serializer_class = serializers.CostActualSerializer
    filterset_fields = ("period", "department", "cost_centre", "line", "currency")

    def get_queryset(self) -> Any:
        return restrict(super().get_queryset(), self.request.user, token=request_token(self.request))


class KpiViewSet(viewsets.GenericViewSet):
    """The KPIs as the ``/finance/`` page shows them (permission: view budgets)."""

    queryset = Budget.objects.none()  # the permission's model
    serializer_class = serializers.KpisSerializer
    pagination_class = None
    filter_backends = ()

    @extend_schema(parameters=[OpenApiParameter("year", int, description="the budgets' year (default: this year)")])
    def list(self, request: Request) -> Response:
        today = timezone.localdate()
        text = request.query_params.get("year", "")
        year = int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else today.year
        data = {"disputes": dispute_kpis(figures.dispute_facts(), today=today),
                "payments": figures.payment_kpis(today=today),
                "budgets": figures.budget_statuses(year)}
        return Response(serializers.KpisSerializer(data).data)
