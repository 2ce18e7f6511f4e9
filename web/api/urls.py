"""``/api/``: the apps' routers, the OpenAPI schema (``/api/schema/``) and its Swagger UI (``/api/docs/``).

Every API view is exempt from ``LoginRequiredMiddleware`` (which would redirect a token request to the login
page): DRF authenticates, and the permission class refuses anonymous requests with 401.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated


def _open(patterns: list[Any]) -> list[Any]:
    for p in patterns:
        if isinstance(p, URLPattern):
            p.callback.login_required = False  # type: ignore[attr-defined]
        elif isinstance(p, URLResolver):
            _open(p.url_patterns)
    return patterns


app_name = "api"
urlpatterns = _open([
    path("inventory/", include("web.inventory.api.urls")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[IsAuthenticated]),
         name="docs"),
])
