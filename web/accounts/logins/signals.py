"""Login, logout, failed login and lockout → :class:`LoginEvent` rows (Django's and django-axes' signals)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from linewatch.choices import LoginEventKind
from web.accounts.directory import BACKEND as LDAP_BACKEND
from web.accounts.logins.models import LoginEvent


def _record(kind: LoginEventKind, request: Any, *, user: Any = None, user_name: str = "", backend: str = "") -> None:
    meta = getattr(request, "META", {}) if request is not None else {}
    LoginEvent.objects.create(
        kind=kind, user=user, user_name=(user.get_username() if user is not None else user_name)[:150],
        remote_addr=meta.get("REMOTE_ADDR") or None, request_id=getattr(request, "id", None), backend=backend)


@receiver(user_logged_in, dispatch_uid="web.accounts.logins.logged_in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    backend = "ldap" if getattr(user, "backend", "") == LDAP_BACKEND else "local"
    _record(LoginEventKind.LOGIN, request, user=user, backend=backend)


@receiver(user_logged_out, dispatch_uid="web.accounts.logins.logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:  # logging out without a session logs nothing
        _record(LoginEventKind.LOGOUT, request, user=user)


def _known_user(name: str) -> Any:
    model = get_user_model()
    return model.objects.filter(**{model.USERNAME_FIELD: name}).first() if name else None


@receiver(user_login_failed, dispatch_uid="web.accounts.logins.login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Only the user name is read: ``credentials`` also holds the password (Django masks it, we never touch it).
    name = str(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "")
    _record(LoginEventKind.LOGIN_FAILED, request, user=_known_user(name), user_name=name)


@receiver(user_locked_out, dispatch_uid="web.accounts.logins.locked_out")
def _locked_out(sender: Any, request: Any, username: str | None = None, **kwargs: Any) -> None:
    name = username or ""
    _record(LoginEventKind.LOCKED_OUT, request, user=_known_user(name), user_name=name)
