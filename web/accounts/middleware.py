"""Session lifetime: the idle timeout (``SESSION_COOKIE_AGE``) is renewed by the requests, and a session ends
``LINEWATCH_SESSION_MAX_S`` after its login however busy it is.

Renewing writes the session row, so it is done only when the stored expiry would move by more than
``RENEW_S`` (not on every request, as ``SESSION_SAVE_EVERY_REQUEST`` did): an idle session thus ends between
``SESSION_COOKIE_AGE - RENEW_S`` and ``SESSION_COOKIE_AGE`` after its last request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

LOGIN_TIME_KEY = "linewatch_login_time"
RENEW_S = 60  # the idle expiry's granularity: a session row is written at most once a minute by reading pages


@receiver(user_logged_in, dispatch_uid="web.accounts.login_time")
def _remember_login_time(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_TIME_KEY] = timezone.now().timestamp()


def renew_idle_expiry(session: Any, now: dt.datetime) -> bool:
    """Mark ``session`` (a :class:`web.accounts.sessions.SessionStore`) modified, so that ``SessionMiddleware``
    saves it with a new expiry, if its stored expiry lags a full idle period from ``now`` by more than
    ``RENEW_S``; True if it did."""
    stored = getattr(session, "stored_expiry", None)
    if stored is None or session.modified or session.session_key is None:
        return False  # nothing loaded, already being saved, or flushed (logged out)
    if stored >= now + dt.timedelta(seconds=session.get_expiry_age() - RENEW_S):
        return False
    session.modified = True
    return True


class SessionMaxAgeMiddleware:
    """Logs out a session older than ``LINEWATCH_SESSION_MAX_S`` (the next page then asks for a login), and
    renews the idle expiry (:func:`renew_idle_expiry`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(LOGIN_TIME_KEY)
            if started is None or timezone.now().timestamp() - float(started) > settings.LINEWATCH_SESSION_MAX_S:
                logout(request)  # also logged as a logout
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None:
            renew_idle_expiry(session, timezone.now())
        return response
