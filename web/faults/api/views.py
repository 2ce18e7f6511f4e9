"""``/api/faults/``: tickets (list, detail, create, edit, transition, comment), SLA-credit claims, and the alert
intake ``POST /api/faults/alerts/`` (the alert evaluator's webhook receiver, contracts §6)."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions, permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from web.api.authentication import TokenAuthentication
from web.api.permissions import request_token
from web.api.serializers import field_errors
from web.api.viewsets import ModelViewSet
from web.faults import intake, services
from web.faults.api import serializers
from web.faults.filtersets import TicketFilterSet
from web.faults.models import SlaClaim, Ticket


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A service call with Django's errors as DRF's (400 naming the field, 403)."""
    try:
        return fn(*args, **kwargs)
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from None
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(field_errors(exc)) from None


class TicketViewSet(ModelViewSet):
    """Restricted like every viewset (POST needs ``add_ticket``, PATCH ``change_ticket``); a step's own permission
    (``services.STEP_PERMISSIONS``) is checked by the service function."""

    queryset = Ticket.objects.select_related("line", "carrier", "site").prefetch_related("events")
    serializer_class = serializers.TicketSerializer
    filterset_class = TicketFilterSet
    http_method_names = ("get", "post", "patch", "head", "options")

    def get_serializer_class(self) -> Any:
        return {"partial_update": serializers.TicketUpdateSerializer, "transition": serializers.TicketTransitionSerializer,
                "comment": serializers.TicketCommentSerializer}.get(self.action, serializers.TicketSerializer)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = _call(services.open_ticket, acting_user=self.request.user,
                                    token=request_token(self.request), **serializer.validated_data)

    @extend_schema(request=serializers.TicketUpdateSerializer, responses=serializers.TicketSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        serializer = serializers.TicketUpdateSerializer(ticket, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        ticket = _call(services.edit, ticket, acting_user=request.user, token=request_token(request),
                       **serializer.validated_data)
        return Response(serializers.TicketSerializer(ticket).data)

    @extend_schema(request=serializers.TicketTransitionSerializer, responses=serializers.TicketSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Take a step: notify_carrier, start_work, resolve (cause), close (after the review), reopen."""
        ticket = self.get_object()
        serializer = serializers.TicketTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step = services.STEPS[serializer.validated_data["step"]]
        ticket = _call(step, ticket, acting_user=request.user, token=request_token(request),
                       **serializer.step_kwargs())
        return Response(serializers.TicketSerializer(ticket).data)

    @extend_schema(request=serializers.TicketCommentSerializer, responses={201: serializers.TicketEventSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        """Add a comment, or record the carrier's answer (and its ticket number)."""
        ticket = self.get_object()
        serializer = serializers.TicketCommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = _call(services.comment, ticket, acting_user=request.user, token=request_token(request),
                      **serializer.validated_data)
        return Response(serializers.TicketEventSerializer(event).data, status=status.HTTP_201_CREATED)


class SlaClaimViewSet(ModelViewSet):
    queryset = SlaClaim.objects.select_related("line").prefetch_related("tickets")
    serializer_class = serializers.SlaClaimSerializer
    filterset_fields = ("line", "period", "state")
    http_method_names = ("get", "patch", "head", "options")


class IntakeCredential:
    """The request carried ``web.alert_intake_token``."""


def intake_token() -> str:
    token = settings.LINEWATCH.web.alert_intake_token
    return token.get_secret_value() if token is not None else ""


class IntakeTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <web.alert_intake_token>``, compared in constant time; any other bearer token is
    left to the API tokens (:class:`TokenAuthentication`)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        expected = intake_token()
        if len(header) == 2 and header[0] == b"Bearer" and expected and \
                hmac.compare_digest(header[1], expected.encode()):
            return AnonymousUser(), IntakeCredential()
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class MayOpenTickets(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, IntakeCredential):
            return True
        return services.may(request.user, "open", token=request_token(request)) and request.user.is_authenticated


class AlertIntakeView(APIView):
    """``POST /api/faults/alerts/``: the alert evaluator's notification payload (the outbox JSON of one group)."""

    authentication_classes = (IntakeTokenAuthentication, TokenAuthentication, authentication.SessionAuthentication)
    permission_classes = (MayOpenTickets,)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=serializers.IntakeResultSerializer,
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
                                                description="the outbox message id: a repeat changes nothing")])
    def post(self, request: Request) -> Response:
        try:
            result = intake.receive(request.data, idempotency_key=request.headers.get("Idempotency-Key", ""),
                                    config=settings.LINEWATCH.faults)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(field_errors(exc)) from None
        return Response(result.as_json(), status=status.HTTP_200_OK)


class IntakeTokenScheme(OpenApiAuthenticationExtension):
    """The alert intake's ``web.alert_intake_token`` in the OpenAPI schema: a bearer token, like the API tokens."""

    target_class = "web.faults.api.views.IntakeTokenAuthentication"
    name = "alertIntakeToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
