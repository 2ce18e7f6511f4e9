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
        if self.instance is None:
            instance = model(**attrs)
        else:
            instance = copy.copy(self.instance)
            for name, value in attrs.items():
                setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from None
        return attrs

    def _check_changeable(self, request: Any, model: type, attrs: dict[str, Any]) -> None:
        """A role that may change only some fields (the NOC: a line's status) is refused the others (403)."""
        allowed = changeable_fields(request.user, model, token=request_token(request))
        if allowed is None:
            return
        refused = sorted(name for name, value in attrs.items()
                         if name not in allowed and getattr(self.instance, name) != value)
        if refused:
            raise exceptions.PermissionDenied({"detail": _("your role may change only: %(fields)s") % {
                "fields": ", ".join(allowed)}, "fields": refused})
