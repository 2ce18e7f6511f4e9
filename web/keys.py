"""The application's keys: Django's signing key and the Fernet key(s) encrypting SNMP credentials at rest.

Both come from linewatch's settings (``web.secret_key``, ``web.credentials_key``). When absent (development),
each is generated once into ``state_dir`` with mode 0600 and read back on the next start, so a restart can still
decrypt what it stored.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from pydantic import SecretStr

SECRET_KEY_FILE = "web-secret-key"
CREDENTIALS_KEY_FILE = "web-credentials-key"


def _generated(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(make + "\n")
    return make


def secret_key(value: SecretStr | None, *, state_dir: Path) -> str:
    if value is not None:
        return value.get_secret_value()
    return _generated(state_dir / SECRET_KEY_FILE, secrets.token_urlsafe(50))


def credentials_keys(value: SecretStr | None, *, state_dir: Path) -> list[str]:
    """The Fernet keys, newest first (the first encrypts; all decrypt: rotate by prepending a new key)."""
    text = value.get_secret_value() if value is not None else _generated(
        state_dir / CREDENTIALS_KEY_FILE, Fernet.generate_key().decode())
    keys = [k.strip() for k in text.split(",") if k.strip()]
    for i, key in enumerate(keys):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"web.credentials_key: key {i + 1} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')") from None
    if not keys:
        raise ImproperlyConfigured("web.credentials_key is empty")
    return keys


def fernet(keys: list[str]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])
