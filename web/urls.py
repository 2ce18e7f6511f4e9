from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from web.accounts.health import health
from web.inventory import api_inventory

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inventory:line_list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language can be chosen before logging in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("inventory/", include("web.inventory.urls")),
    path("orders/", include("web.orders.urls")),
    path("faults/", include("web.faults.urls")),
    path("inspections/", include("web.inspections.urls")),
    path("notify/", include("web.notify.urls")),
    path("invoices/", include("web.invoices.urls")),
    path("findings/", include("web.findings.urls")),
    path("credits/", include("web.credits.urls")),
    path("intake/", include("web.intake.urls")),
    path("finance/", include("web.finance.urls")),
    path("voice/", include("web.voice.urls")),
    path("reports/", include("web.reports.urls")),
    path("audit/", include("web.audit.urls")),
    path("accounts/", include("web.accounts.urls")),
    path("-/health", health, name="health"),  # open: the container health check (docs/docker.md)
    # Before the API's router: the collectors' whole-inventory document (bearer token, ETag), docs/web.md.
    path("api/inventory.json", api_inventory.inventory_json, name="inventory_json"),
    path("api/", include("web.api.urls")),
    path("admin/", admin.site.urls),
]
