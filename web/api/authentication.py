"""``Authorization: Bearer <token>`` (or ``Token <token>``) authentication with :class:`web.accounts.tokens.Token`.

The audit middleware ran before DRF authenticated the request, so it saw no user: once the token's user is
known the request's change context is re-attributed to them (same request id and address), so the change-log
rows of API changes name the token's user.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from web.accounts.tokens import Token
from web.audit import context as audit_context

KEYWORDS = ("Bearer", "Token")


def attribute_changes_to(user: Any) -> None:
    """Make the rest of this request's changes name ``user`` (keeping its request id and address)."""
    ctx = audit_context.current()
    audit_context._current.set(dataclasses.replace(ctx, user=user, user_name=user.get_username()))


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization header: give the keyword and one token"))
        token = Token.objects.for_key(header[1].decode(errors="replace"))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("invalid or expired token"))
        Token.objects.filter(pk=token.pk).update(last_used=timezone.now())  # not a change: not logged
        attribute_changes_to(token.user)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "web.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
