"""API tokens: one per use, belonging to a user, with a read or write scope (:class:`linewatch.choices.TokenScope`).

Only the SHA-256 of a token is stored (tokens are 256 random bits, so a plain hash is enough and allows lookup);
the token itself is shown once, when it is created. A token never grants more than its user's role: the write
scope only lets it use the user's permissions beyond viewing.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linewatch.choices import TokenScope
from web.audit.models import ChangeLoggedModel
from web.labels import choices_of

TOKEN_PREFIX = "lw_"
_PREFIX_CHARS = 8  # shown in lists so a user can tell tokens apart


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class TokenQuerySet(models.QuerySet["Token"]):
    def for_key(self, key: str) -> Token | None:
        """The valid (unexpired) token whose key is ``key``, or None."""
        token = self.select_related("user").filter(key_hash=hash_token(key)).first()
        if token is None or token.is_expired():
            return None
        return token


class Token(ChangeLoggedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=128, help_text=_("what the token is for, e.g. an import script"))
    scope = models.CharField(_("scope"), max_length=8, choices=choices_of(TokenScope),
                             default=TokenScope.READ.value)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key prefix"), max_length=16, editable=False)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = TokenQuerySet.as_manager()

    secret_fields = ("key_hash",)
    log_exclude = ("created", "last_updated", "last_used")

    class Meta:
        ordering = ("user", "name")
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} {self.name} ({self.key_prefix}…)"

    @classmethod
    def create(cls, *, user: Any, name: str, scope: TokenScope = TokenScope.READ,
               expires: Any = None) -> tuple[Token, str]:
        """A new token and its key; the key is not stored and cannot be shown again."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, scope=scope.value, expires=expires, key_hash=hash_token(key),
                    key_prefix=key[:_PREFIX_CHARS])
        token.full_clean()
        token.save()
        return token, key

    def is_expired(self, now: Any = None) -> bool:
        return self.expires is not None and self.expires <= (now or timezone.now())

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE
