"""``/api/``: the apps' routers and the OpenAPI schema (``/api/schema/``).

DRF's views are exempt from ``LoginRequiredMiddleware`` (``view.login_required = False``), which would redirect a
token request to the login page: DRF authenticates, and the permission class refuses anonymous requests (401).
"""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated

app_name = "api"
urlpatterns = [
    path("inventory/", include("web.inventory.api.urls")),
    path("orders/", include("web.orders.api.urls")),
    path("faults/", include("web.faults.api.urls")),
    path("inspections/", include("web.inspections.api.urls")),
    path("notify/", include("web.notify.api.urls")),
    path("invoices/", include("web.invoices.api.urls")),
    path("findings/", include("web.findings.api.urls")),
    path("credits/", include("web.credits.api.urls")),
    path("intake/", include("web.intake.api.urls")),
    path("finance/", include("web.finance.api.urls")),
    path("voice/", include("web.voice.api.urls")),
    path("reports/", include("web.reports.api.urls")),
    path("audit/", include("web.audit.api")),
    path("accounts/", include("web.accounts.api")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
]
