"""The API's permission class: :func:`web.accounts.permissions.is_permitted`, the check the pages use too."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from web.accounts.permissions import Action, is_permitted, read_only_message, read_only_refuses
from web.accounts.tokens import Token

METHOD_ACTIONS: dict[str, Action] = {
    "GET": "view", "HEAD": "view", "OPTIONS": "view",
    "POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete",
}


def request_token(request: Request) -> Token | None:
    return request.auth if isinstance(request.auth, Token) else None


class ModelActionPermission(permissions.BasePermission):
    """The user may do the method's action on the view's model (a read token: only view)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        action = METHOD_ACTIONS.get(request.method or "")
        if action is None:
            return False
        model = view.get_queryset().model
        if read_only_refuses(model._meta.app_label, action):
            self.message = read_only_message()  # the 403's detail (DRF reads the refusing permission's message)
            return False
        return is_permitted(request.user, model, action, token=request_token(request))


class IsAuthenticated(permissions.IsAuthenticated):
    """Any logged-in user (the schema and its UI)."""
