from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inventory:line_list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language can be chosen before logging in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("inventory/", include("web.inventory.urls")),
    path("audit/", include("web.audit.urls")),
    path("api/", include("web.api.urls")),
    path("admin/", admin.site.urls),
]
