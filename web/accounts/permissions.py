"""The one permission check of the management application, used by the pages and by the API alike.

A user may do ``action`` (view, add, change, delete) on a model if their role grants the model permission
``<app>.<action>_<model>``; an API token additionally limits its user to viewing unless its scope is write.
:func:`restrict` applies the same rule to a queryset (NetBox's ``RestrictedQuerySet``): an unpermitted user gets
an empty queryset, never someone else's rows.
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.contrib.auth.context_processors import PermLookupDict, PermWrapper
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from web.accounts.tokens import Token

Action = Literal["view", "add", "change", "delete"]
ACTIONS: tuple[Action, ...] = ("view", "add", "change", "delete")
_M = TypeVar("_M", bound=Model)


def permission_name(model: type[Model], action: Action) -> str:
    meta = model._meta
    return f"{meta.app_label}.{action}_{meta.model_name}"


# The files are the inventory's source (``web.inventory_read_only``): no role may add, change or delete any
# inventory model, admins included; ``linewatch inventory import DIR`` (no user, no permission) still writes.
READ_ONLY_APP = "inventory"


def inventory_read_only() -> bool:
    return bool(getattr(settings, "LINEWATCH_INVENTORY_READ_ONLY", False))


def read_only_refuses(app_label: str, action: str) -> bool:
    """Whether the read-only inventory refuses ``action`` on a model of ``app_label``."""
    return action != "view" and app_label == READ_ONLY_APP and inventory_read_only()


def read_only_message() -> str:
    return _("The inventory is managed in files: change config/lines.yaml and run `linewatch inventory import`.")


def is_permitted(user: Any, model: type[Model], action: Action, *, token: Token | None = None) -> bool:
    """Whether ``user`` (authenticated through ``token``, if by one) may ``action`` objects of ``model``
    (never a write on the inventory when it is read-only: :func:`read_only_refuses`)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    if read_only_refuses(model._meta.app_label, action):
        return False
    return role_permits(user, model, action, token=token)


def role_permits(user: Any, model: type[Model], action: Action, *, token: Token | None = None) -> bool:
    """The role's (and token's) grant alone, whatever the read-only inventory: for the collectors' access to
    ``/api/inventory/`` (a token of a user whose role changes devices), which is a read."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if token is not None and action != "view" and not token.can_write:
        return False
    return bool(user.has_perm(permission_name(model, action)))


# A user who may change but not add objects of these models changes only these fields (the NOC: a line's status).
CHANGE_ONLY_FIELDS: dict[str, tuple[str, ...]] = {"inventory.line": ("status",)}


def changeable_fields(user: Any, model: type[Model], *, token: Token | None = None) -> tuple[str, ...] | None:
    """The fields ``user`` may change on ``model`` (None: every field; ``()``: none)."""
    if not is_permitted(user, model, "change", token=token):
        return ()
    limited = CHANGE_ONLY_FIELDS.get(model._meta.label_lower)
    if limited is None or is_permitted(user, model, "add", token=token):
        return None
    return limited


def restrict(queryset: QuerySet[_M], user: Any, action: Action = "view", *,
             token: Token | None = None) -> QuerySet[_M]:
    """``queryset`` if ``user`` may ``action`` its objects, else an empty queryset."""
    if is_permitted(user, queryset.model, action, token=token):
        return queryset
    return queryset.none()


# Attachments (documents, web/inventory/models/documents.py) have no permissions of their own: they follow their
# parent (the model's ``parent_fields``: carrier, contract or line). Seeing and downloading one needs the parent's
# view permission; attaching and deleting one, the right to change the whole parent (finance for carriers and
# contracts, engineers for lines, admins all; not the NOC, whose change of a line is its status only).
def attachment_permitted(user: Any, parent_model: type[Model], action: Action, *, token: Token | None = None) -> bool:
    """Whether ``user`` may ``action`` an attachment of a ``parent_model`` object."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    if action == "view":
        return is_permitted(user, parent_model, "view", token=token)
    return changeable_fields(user, parent_model, token=token) is None


def restrict_attachments(queryset: QuerySet[_M], user: Any, action: Action = "view", *,
                         token: Token | None = None) -> QuerySet[_M]:
    """The attachments of ``queryset`` whose parent lets ``user`` ``action`` them (:func:`attachment_permitted`)."""
    model = queryset.model
    allowed = [Q(**{f"{name}__isnull": False}) for name in model.parent_fields  # type: ignore[attr-defined]
               if attachment_permitted(user, model._meta.get_field(name).related_model, action, token=token)]
    if not allowed:
        return queryset.none()
    return queryset.filter(functools.reduce(operator.or_, allowed))


class ModelPermissionRequiredMixin(PermissionRequiredMixin):
    """Pages: 403 (302 to the login page when anonymous) unless :func:`is_permitted`; the queryset restricted."""

    model: type[Model]
    permission_action: Action = "view"

    def has_permission(self) -> bool:
        return is_permitted(self.request.user, self.model, self.permission_action)  # type: ignore[attr-defined]

    def get_permission_denied_message(self) -> str:
        if read_only_refuses(self.model._meta.app_label, self.permission_action):
            return read_only_message()
        return super().get_permission_denied_message()

    def get_queryset(self) -> QuerySet[Any]:
        return restrict(super().get_queryset(), self.request.user,  # type: ignore[misc, attr-defined]
                        self.permission_action)


class _ReadOnlyPermLookupDict(PermLookupDict):
    def __getitem__(self, perm_name: str) -> bool:
        action = perm_name.partition("_")[0]
        return not read_only_refuses(self.app_label, action) and super().__getitem__(perm_name)


class _ReadOnlyPermWrapper(PermWrapper):
    def __getitem__(self, app_label: str) -> PermLookupDict:
        return _ReadOnlyPermLookupDict(self.user, app_label)

    def __contains__(self, perm_name: str) -> bool:
        app_label, _dot, name = perm_name.partition(".")
        return not read_only_refuses(app_label, name.partition("_")[0]) and super().__contains__(perm_name)


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context: ``perms`` (as Django's, less the writes the read-only inventory refuses: the add and
    edit buttons hide) and ``inventory_read_only`` with its message (the banner of base.html)."""
    if not inventory_read_only():
        return {"inventory_read_only": False}
    user = getattr(request, "user", None)
    extra: dict[str, Any] = {"inventory_read_only": True, "inventory_read_only_message": read_only_message()}
    if user is not None:
        extra["perms"] = _ReadOnlyPermWrapper(user)
    return extra
