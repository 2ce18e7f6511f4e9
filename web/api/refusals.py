"""The services' refusals as the API's answers, one way for every app: 403 (naming the roles that may, when the
refusal knows them), 409 (the move is not available from this state), 400 (naming the field)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status

from web.api.serializers import field_errors

T = TypeVar("T")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_available"


def call(fn: Callable[..., T], *args: Any, denied: tuple[type[Exception], ...],
         unavailable: tuple[type[Exception], ...], **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``; a ``denied`` exception is 403, an ``unavailable`` one 409, a Django
    ``ValidationError`` 400 naming its fields. ``denied`` is tried first (it may subclass an ``unavailable``)."""
    try:
        return fn(*args, **kwargs)
    except denied as exc:
        roles = getattr(exc, "roles", None)
        raise exceptions.PermissionDenied({"detail": str(exc), **({"roles": roles} if roles is not None else {})}) \
            from None
    except unavailable as exc:
        raise Conflict({"detail": str(exc)}) from None
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(field_errors(exc)) from None
