"""``/api/credits/matches/``: the credit matches (list, detail; ``?state=proposed``), ``POST …/{id}/confirm/``
(``recovered_amount`` optional), ``POST …/{id}/reject/`` (``note``), ``POST /api/credits/matches/`` (a credit row
linked to a dispute by hand: a confirmed match); ``/api/credits/unmatched/``: the credit rows matching nothing.
Every change goes through :mod:`web.credits.services`, as the pages' do, with the same permission."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from web.accounts.permissions import is_permitted, restrict
from web.api import refusals
from web.api.permissions import request_token
from web.credits import services
from web.credits.api import serializers as s
from web.credits.models import CreditMatch

# A service call with its refusals as the API's answers: 403, 409, 400 naming the field.
_call = partial(refusals.call, denied=(services.NotPermitted,), unavailable=(services.CreditError,))


class CreditPermission(permissions.BasePermission):
    """Read: view credit matches. Confirm, reject: change. Link by hand: add (and change). A read-only token never
    writes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        if request.method in permissions.SAFE_METHODS:
            return is_permitted(request.user, CreditMatch, "view", token=token)
        if token is not None and not token.can_write:
            return False
        actions = ("add", "change") if view.action == "create" else ("change",)
        return all(is_permitted(request.user, CreditMatch, a, token=token) for a in actions)


class CreditMatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = CreditMatch.objects.select_related("credit_row__invoice__carrier", "dispute").order_by("-pk")
    serializer_class = s.CreditMatchSerializer
    permission_classes = (CreditPermission,)
    filterset_fields = ("state", "dispute", "credit_row", "manual")
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[CreditMatch]:
        return restrict(super().get_queryset(), self.request.user, "view", token=request_token(self.request))

    def _read(self, match: CreditMatch) -> dict[str, Any]:
        return s.CreditMatchSerializer(self.get_queryset().get(pk=match.pk), context={"request": self.request}).data

    @extend_schema(request=s.LinkSerializer, responses={201: s.CreditMatchSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Link a credit row to a dispute by hand: ``{"credit_row": 12, "dispute": 3, "recovered_amount": "50"}``."""
        body = s.LinkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        match = _call(services.link, data["credit_row"], data["dispute"], request.user,
                      recovered_amount=data.get("recovered_amount"))
        return Response(self._read(match), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ConfirmSerializer, responses={200: s.CreditMatchSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        match = self.get_object()
        body = s.ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        match = _call(services.confirm, match, request.user,
                      recovered_amount=body.validated_data.get("recovered_amount"))
        return Response(self._read(match))

    @extend_schema(request=s.RejectSerializer, responses={200: s.CreditMatchSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        match = self.get_object()
        body = s.RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        match = _call(services.reject, match, request.user, note=body.validated_data.get("note", ""))
        return Response(self._read(match))


class UnmatchedCreditViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The credit rows with no proposed or confirmed match (read-only)."""

    serializer_class = s.CreditRowSerializer
    permission_classes = (CreditPermission,)

    def get_queryset(self) -> QuerySet[Any]:
        if not is_permitted(self.request.user, CreditMatch, "view", token=request_token(self.request)):
            return services.unmatched_rows().none()
        return services.unmatched_rows()
