"""``GET /-/health``: the container health check (docker-compose.yml) and load balancers.

Open without a login; answers ``200 {"status": "ok"}`` when the database answers a query, ``503
{"status": "unavailable"}`` otherwise. It names nothing else (no version, no database, no error text): the reason
goes to the log (logger ``web.health``, masked by linewatch's secret filter), never into the answer.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger("web.health")


@login_not_required
@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.warning("health check: the database does not answer: %s", exc)
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
