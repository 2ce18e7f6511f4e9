"""Session lifetime: besides the idle timeout (``SESSION_COOKIE_AGE``, renewed by every request), a session
ends ``LINEWATCH_SESSION_MAX_S`` after its login however busy it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

LOGIN_TIME_KEY = "linewatch_login_time"


@receiver(user_logged_in, dispatch_uid="web.accounts.login_time")
def _remember_login_time(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_TIME_KEY] = timezone.now().timestamp()


class SessionMaxAgeMiddleware:
    """Logs out a session older than ``LINEWATCH_SESSION_MAX_S`` (the next page then asks for a login)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(LOGIN_TIME_KEY)
            if started is None or timezone.now().timestamp() - float(started) > settings.LINEWATCH_SESSION_MAX_S:
                logout(request)  # also logged as a logout
        return self.get_response(request)
