"""The base serializer: the model's ``full_clean()`` decides, so the API and the forms enforce one rule set."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings

from web.accounts.permissions import changeable_fields
from web.api.permissions import request_token


def field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """Django's errors as DRF's ``{field: [message, …]}`` (errors of no field under ``non_field_errors``)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return {(api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): [str(m) for m in messages]
            for name, messages in errors.items()}


class ValidatedModelSerializer(serializers.ModelSerializer):
    """Validates the would-be object with ``Model.full_clean()`` (fields, ``clean()``, uniqueness)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model = self.Meta.model
        request = self.context.get("request")
        if self.instance is not None and request is not None:
            self._check_changeable(request, model, attrs)
        instance = self.would_be(attrs)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from None
        return attrs

    def would_be(self, attrs: dict[str, Any]) -> Any:
        """The object as ``attrs`` would make it (unsaved), for ``full_clean()``."""
        if self.instance is None:
            return self.Meta.model(**attrs)
        instance = copy.copy(self.instance)
        for name, value in attrs.items():
            setattr(instance, name, value)
        return instance

    def _check_changeable(self, request: Any, model: type, attrs: dict[str, Any], *,
                          replaced: tuple[str, ...] = ()) -> None:
        """A role that may change only some fields (the NOC: a line's status) is refused the others (403);
        ``replaced`` names given fields that count as changed whatever their value (nested rows: a line's members)."""
        allowed = changeable_fields(request.user, model, token=request_token(request))
        if allowed is None:
            return
        refused = sorted({name for name, value in attrs.items()
                          if name not in allowed and getattr(self.instance, name) != value}
                         | {name for name in replaced if name not in allowed})
        if refused:
            raise exceptions.PermissionDenied({"detail": _("your role may change only: %(fields)s") % {
                "fields": ", ".join(allowed)}, "fields": refused})
