"""A text field encrypted at rest with the application's Fernet key(s) (``web.credentials_key``).

The database holds only the Fernet token; Python code sees the plain value. Forms must never render it back
(:class:`web.inventory.forms.SecretInput`), and the change log masks it (``secret_fields``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from web.keys import fernet


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return fernet(list(keys))


def cipher() -> MultiFernet:
    return _fernet(tuple(settings.LINEWATCH_CREDENTIALS_KEYS))


class EncryptedTextField(models.TextField):
    """Stores ``Fernet(key).encrypt(value)``; empty values are stored as empty strings, not encrypted."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        try:
            return cipher().decrypt(value.encode()).decode()
        except InvalidToken:
            raise ImproperlyConfigured(
                f"{self.model.__name__}.{self.name}: stored secret cannot be decrypted with web.credentials_key "
                "(was the key changed without keeping the old one after it?)") from None

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return cipher().encrypt(str(value).encode()).decode()
