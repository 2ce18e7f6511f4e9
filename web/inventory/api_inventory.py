"""``GET /api/inventory.json``: the whole inventory for the collectors, in the manner of Prometheus' HTTP service
discovery: one document, polled every cycle, cheap when nothing changed.

The body is exactly what :class:`linewatch.inventory.Inventory` validates (``{"devices": [...], "lines": [...],
"maintenance": [...]}``, lines.yaml's shape, SNMP secrets in clear; of the planned maintenance only the windows
that end in the future or ended within the last day, :data:`MAINTENANCE_KEPT`, to keep it small), so :mod:`linewatch.inventory_source` hands it to the same model as a
file. Each answer carries an ``ETag`` (SHA-256 of the body); a request whose ``If-None-Match`` names it gets
``304 Not Modified`` and no body.

Only collectors may read it, since it holds the SNMP secrets: ``Authorization: Bearer <token>`` with an API
token (web/accounts/tokens.py, read scope is enough) of a user whose role may change devices (engineer, admin:
those who set the secrets), or with the setting ``web.inventory_token`` (compared in constant time) for a
collector that has no user. Anything else is 401; the answer is never cached by a proxy
(``Cache-Control: no-store``); a valid API token of a user without that permission is 403.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import condition, require_safe

from web.accounts.permissions import role_permits
from web.accounts.tokens import Token
from web.api.authentication import KEYWORDS
from web.inventory.io import inventory_data
from web.inventory.models import Device

_CACHE_ATTR = "_linewatch_inventory_body"
MAINTENANCE_KEPT = dt.timedelta(days=1)  # windows over for longer are left out of the document
_AUTH_ATTR = "_linewatch_inventory_collector"


def configured_token() -> str | None:
    token = settings.LINEWATCH.web.inventory_token
    return token.get_secret_value() if token is not None and token.get_secret_value() else None


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme in KEYWORDS else None


def collector_access(request: HttpRequest) -> int:
    """200 if the request carries a collector's token: an API token of a user who may change devices (and so
    set their SNMP secrets; read scope is enough), or the setting ``web.inventory_token``; 403 for the API token
    of another user; else 401."""
    cached = getattr(request, _AUTH_ATTR, None)
    if cached is not None:
        return cached
    given = bearer_token(request)
    status = 401
    if given is not None:
        token = Token.objects.for_key(given)
        if token is not None and token.user.is_active:
            status = 200 if role_permits(token.user, Device, "change") else 403
            Token.objects.filter(pk=token.pk).update(last_used=timezone.now())  # not a change: not logged
        else:
            expected = configured_token()
            if expected is not None and hmac.compare_digest(expected.encode(), given.encode()):
                status = 200
    setattr(request, _AUTH_ATTR, status)
    return status


def inventory_body(request: HttpRequest) -> bytes:
    """The JSON document, built once per request (the ETag and the response share it)."""
    body = getattr(request, _CACHE_ATTR, None)
    if body is None:
        data = inventory_data(secrets="clear", maintenance_since=timezone.now() - MAINTENANCE_KEPT)
        body = orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=_json_value)  # dates: ISO 8601
        setattr(request, _CACHE_ATTR, body)
    return body


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _etag(request: HttpRequest) -> str | None:
    if collector_access(request) != 200:
        return None  # no conditional answer for a refused request
    return hashlib.sha256(inventory_body(request)).hexdigest()


def _refused(status: int) -> JsonResponse:
    response = JsonResponse({"error": "the inventory needs a collector's bearer token: an API token of a user "
                                      "who may change devices, or web.inventory_token"}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="inventory"'
    return response


@login_not_required
@require_safe
@condition(etag_func=_etag)
def inventory_json(request: HttpRequest) -> HttpResponse:
    status = collector_access(request)
    if status != 200:
        return _refused(status)
    response = HttpResponse(inventory_body(request), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
