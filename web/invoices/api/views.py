"""``/api/invoices/``: invoices (list, detail, filters as the page's), and the moves ``POST
/api/invoices/{id}/approve/`` ``{"withhold_disputed": true}``, ``…/schedule/`` ``{"payment_date": "2026-12-18"}``,
``…/mark_paid/`` ``{"paid_on": "2026-12-18", "reference": "…"}``. Every move goes through
:mod:`web.invoices.services`, as the pages' do: 403 naming the roles that own the move, 409 from a wrong state,
400 naming a bad field."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from web.accounts.permissions import is_permitted, restrict
from web.api import refusals
from web.api.permissions import request_token
from web.invoices import services
from web.invoices.api import serializers as s
from web.invoices.filtersets import InvoiceFilterSet
from web.invoices.models import Invoice


class InvoicePermission(permissions.BasePermission):
    """Read: view invoices. A move: view here, the role check is the services' (403 naming the role); a read-only
    token never writes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        if request.method not in permissions.SAFE_METHODS and token is not None and not token.can_write:
            return False
        return is_permitted(request.user, Invoice, "view", token=token)


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Invoice.objects.select_related("carrier").prefetch_related("rows", "events")
    serializer_class = s.InvoiceSerializer
    permission_classes = (InvoicePermission,)
    filterset_class = InvoiceFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Invoice]:
        return restrict(super().get_queryset(), self.request.user, "view", token=request_token(self.request))

    def _move(self, request: Request, fn: Any, **kwargs: Any) -> Response:
        invoice = self.get_object()
        refusals.call(fn, invoice, request.user, denied=(services.NotPermitted,), unavailable=(services.NotAvailable,),
                      **kwargs)
        fresh = self.get_queryset().get(pk=invoice.pk)
        return Response(s.InvoiceSerializer(fresh, context={"request": request}).data)

    @extend_schema(request=s.ApproveSerializer, responses={200: s.InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, services.approve, **s.values(s.ApproveSerializer, request.data))

    @extend_schema(request=s.ScheduleSerializer, responses={200: s.InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, services.schedule, **s.values(s.ScheduleSerializer, request.data))

    @extend_schema(request=s.PaidSerializer, responses={200: s.InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def mark_paid(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, services.mark_paid, **s.values(s.PaidSerializer, request.data))
