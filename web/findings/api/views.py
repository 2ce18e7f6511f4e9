"""``/api/findings/``: findings (list, detail, ``POST {id}/transition/`` accept/reopen, ``POST bulk-accept/``),
``/api/findings/suppressions/`` (CRUD, the model permissions), ``/api/findings/disputes/`` (list, detail, open
one from findings, ``POST {id}/transition/`` send/answer/resolve_dispute/note). Every change goes through
:mod:`web.findings.services`, as the pages' do: 403 naming the roles that own a move, 409 when the state does
not allow it, 400 naming the field."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from web.accounts.permissions import is_permitted, restrict
from web.api import refusals
from web.api.permissions import request_token
from web.api.viewsets import ModelViewSet
from web.findings import services
from web.findings.api import serializers as s
from web.findings.filtersets import DisputeFilterSet, FindingFilterSet
from web.findings.models import Dispute, Finding, SuppressionRule

# The services' refusals as the API's answers: 403 naming the roles, 409, 400 naming the field.
_call = partial(refusals.call, denied=(services.NotPermitted,), unavailable=(services.NotAvailable,))


class ViewThenServices(permissions.BasePermission):
    """Read: the view permission. A move: view here, the role check is the services' (403 naming the role); a
    read-only token never writes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        if request.method not in permissions.SAFE_METHODS and token is not None and not token.can_write:
            return False
        return is_permitted(request.user, view.get_queryset().model, "view", token=token)


class _Restricted:
    def get_queryset(self) -> QuerySet[Any]:
        return restrict(super().get_queryset(), self.request.user, "view",  # type: ignore[misc]
                        token=request_token(self.request))  # type: ignore[attr-defined]


class FindingViewSet(_Restricted, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Finding.objects.select_related("carrier", "line", "invoice", "dispute")
    serializer_class = s.FindingSerializer
    permission_classes = (ViewThenServices,)
    filterset_class = FindingFilterSet
    lookup_value_regex = r"\d+"

    def _read(self, finding: Finding) -> dict[str, Any]:
        return s.FindingSerializer(self.get_queryset().get(pk=finding.pk), context={"request": self.request}).data

    @extend_schema(request=s.FindingTransitionSerializer, responses={200: s.FindingSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """``{"transition": "accept", "reason": "…"}`` or ``{"transition": "reopen"}``."""
        finding = self.get_object()
        body = s.FindingTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["transition"] == "accept":
            finding = _call(services.accept, finding, request.user, reason=body.validated_data.get("reason", ""))
        else:
            finding = _call(services.reopen, finding, request.user)
        return Response(self._read(finding))

    @extend_schema(request=s.BulkAcceptSerializer, responses={200: s.FindingSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="bulk-accept")
    def bulk_accept(self, request: Request) -> Response:
        """Accept several findings with one reason, all or none."""
        body = s.BulkAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = body.validated_data["findings"]
        chosen = list(self.get_queryset().filter(pk__in=ids).order_by("pk"))
        if len(chosen) != len(set(ids)):
            raise exceptions.ValidationError({"findings": ["unknown finding id(s)"]})
        with transaction.atomic():
            done = [_call(services.accept, f, request.user, reason=body.validated_data["reason"]) for f in chosen]
        return Response([self._read(f) for f in done])


class SuppressionRuleViewSet(ModelViewSet):
    queryset = SuppressionRule.objects.select_related("carrier", "line")
    serializer_class = s.SuppressionRuleSerializer
    filterset_fields = ("rule", "carrier", "line")

    def perform_create(self, serializer: Any) -> None:
        with transaction.atomic():
            self._check_still_permitted(serializer.save(created_by=self.request.user,
                                                        created_by_name=self.request.user.get_username()))


class DisputeViewSet(_Restricted, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Dispute.objects.select_related("carrier").prefetch_related("findings", "events")
    serializer_class = s.DisputeSerializer
    permission_classes = (ViewThenServices,)
    filterset_class = DisputeFilterSet
    lookup_value_regex = r"\d+"

    def _read(self, dispute: Dispute) -> dict[str, Any]:
        return s.DisputeSerializer(self.get_queryset().get(pk=dispute.pk), context={"request": self.request}).data

    @extend_schema(request=s.DisputeCreateSerializer, responses={201: s.DisputeSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a draft dispute from findings (one carrier, one currency, each new)."""
        body = s.DisputeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = body.validated_data["findings"]
        findings = list(restrict(Finding.objects.filter(pk__in=ids), request.user, "view",
                                 token=request_token(request)))
        if len(findings) != len(set(ids)):
            raise exceptions.ValidationError({"findings": ["unknown finding id(s)"]})
        dispute = _call(services.open_dispute, findings, request.user,
                        claimed_amount=body.validated_data.get("claimed_amount"),
                        language=body.validated_data.get("language"))
        return Response(self._read(dispute), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DisputeTransitionSerializer, responses={200: s.DisputeSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        body = s.DisputeTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        name = data["transition"]
        if name == "send":
            dispute = _call(services.send_dispute, dispute, request.user)
        elif name == "answer":
            dispute = _call(services.record_answer, dispute, request.user, reference=data.get("reference", ""),
                            answer=data.get("answer", ""))
        elif name == "resolve_dispute":
            missing = {f: ["required to resolve"] for f in ("outcome", "recovered_amount") if f not in data}
            if missing:
                raise exceptions.ValidationError(missing)
            dispute = _call(services.resolve_dispute, dispute, request.user, outcome=data["outcome"],
                            recovered_amount=data["recovered_amount"], note=data.get("note", ""))
        else:
            _call(services.add_note, dispute, request.user, text=data.get("text", ""))
        return Response(self._read(dispute))
