"""The base viewset: the queryset restricted by :func:`web.accounts.permissions.restrict` (the pages' check),
every change in one transaction that is rolled back unless the saved object is still permitted."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status, viewsets
from rest_framework.serializers import BaseSerializer

from web.accounts.permissions import restrict
from web.api.permissions import METHOD_ACTIONS, request_token


class ProtectedObject(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("the object is still in use")
    default_code = "protected"


class ModelViewSet(viewsets.ModelViewSet):
    def get_queryset(self) -> QuerySet[Any]:
        action = METHOD_ACTIONS.get(self.request.method or "", "view")
        return restrict(super().get_queryset(), self.request.user, action, token=request_token(self.request))

    def _check_still_permitted(self, instance: Any) -> None:
        if not restrict(type(instance)._default_manager.filter(pk=instance.pk), self.request.user, "view",
                        token=request_token(self.request)).exists():
            raise exceptions.PermissionDenied(_("the saved object would not be permitted"))

    def perform_create(self, serializer: BaseSerializer) -> None:
        with transaction.atomic():
            self._check_still_permitted(serializer.save())

    def perform_update(self, serializer: BaseSerializer) -> None:
        with transaction.atomic():
            self._check_still_permitted(serializer.save())

    def perform_destroy(self, instance: Any) -> None:
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError as exc:
            used_by = sorted({str(o) for o in exc.protected_objects})[:10]
            raise ProtectedObject({"detail": str(ProtectedObject.default_detail), "used_by": used_by}) from None
