"""A request id per request and the change context the audit signals read (NetBox's ``CoreMiddleware``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from web.audit.context import ChangeContext, _current

REQUEST_ID_HEADER = "X-Request-ID"


class ChangeContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
        ctx = ChangeContext(user=user, user_name=user.get_username() if user else "anonymous",
                            remote_addr=request.META.get("REMOTE_ADDR") or None)
        request.id = ctx.request_id  # type: ignore[attr-defined]
        token = _current.set(ctx)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = str(ctx.request_id)
        return response
