"""The intake's API: read only (``/api/intake/files/``, ``/api/intake/messages/``), for finance and admins."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, viewsets

from web.accounts.permissions import restrict
from web.api.permissions import request_token
from web.intake.api import serializers
from web.intake.filtersets import IntakeFileFilterSet
from web.intake.models import IntakeFile, IntakeMessage


class _ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    def get_queryset(self) -> Any:
        return restrict(super().get_queryset(), self.request.user, token=request_token(self.request))


class IntakeFileViewSet(_ReadOnly):
    queryset = IntakeFile.objects.select_related("message", "carrier")
    serializer_class = serializers.IntakeFileSerializer
    filterset_class = IntakeFileFilterSet


class IntakeMessageViewSet(_ReadOnly):
    queryset = IntakeMessage.objects.prefetch_related("files")
    serializer_class = serializers.IntakeMessageSerializer
    filterset_fields = ("sender", "mailbox")
