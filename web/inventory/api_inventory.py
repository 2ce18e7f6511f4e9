"""``GET /api/inventory.json``: the whole inventory for the collectors, in the manner of Prometheus' HTTP service
discovery: one document, polled every cycle, cheap when nothing changed.

The body is exactly what :class:`linewatch.inventory.Inventory` validates (``{"devices": [...], "lines": [...]}``,
lines.yaml's shape, SNMP secrets in clear), so :mod:`linewatch.inventory_source` hands it to the same model as a
file. Each answer carries an ``ETag`` (SHA-256 of the body); a request whose ``If-None-Match`` names it gets
``304 Not Modified`` and no body.

Only collectors may read it, since it holds the SNMP secrets: ``Authorization: Bearer <web.inventory_token>``
(the setting, compared in constant time). Anything else is 401; the answer is never cached by a proxy
(``Cache-Control: no-store``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import condition, require_safe

from web.inventory.io import inventory_data

_CACHE_ATTR = "_linewatch_inventory_body"


def configured_token() -> str | None:
    token = settings.LINEWATCH.web.inventory_token
    return token.get_secret_value() if token is not None and token.get_secret_value() else None


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def is_collector(request: HttpRequest) -> bool:
    """The request carries the collectors' token."""
    expected, given = configured_token(), bearer_token(request)
    return expected is not None and given is not None and hmac.compare_digest(expected.encode(), given.encode())


def inventory_body(request: HttpRequest) -> bytes:
    """The JSON document, built once per request (the ETag and the response share it)."""
    body = getattr(request, _CACHE_ATTR, None)
    if body is None:
        data = inventory_data(secrets="clear")
        body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=_json_value).encode()
        setattr(request, _CACHE_ATTR, body)
    return body


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _etag(request: HttpRequest) -> str | None:
    if not is_collector(request):
        return None  # no conditional answer for a refused request
    return hashlib.sha256(inventory_body(request)).hexdigest()


def _refused() -> JsonResponse:
    response = JsonResponse({"error": "the inventory needs the collectors' bearer token (web.inventory_token)"},
                            status=401)
    response["WWW-Authenticate"] = 'Bearer realm="inventory"'
    return response


@login_not_required
@require_safe
@condition(etag_func=_etag)
def inventory_json(request: HttpRequest) -> HttpResponse:
    if not is_collector(request):
        return _refused()
    response = HttpResponse(inventory_body(request), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
