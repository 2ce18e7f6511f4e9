from django.urls import path
from django.views.generic import RedirectView

from web.audit import views

app_name = "audit"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="audit:change_list", permanent=False), name="index"),
    path("changes/", views.ChangeListView.as_view(), name="change_list"),
    path("changes/export.csv", views.ChangeExportView.as_view(), name="change_export"),
    path("changes/<int:pk>/", views.ChangeDetailView.as_view(), name="change_detail"),
    path("logins/", views.LoginListView.as_view(), name="login_list"),
    path("logins/export.csv", views.LoginExportView.as_view(), name="login_export"),
    path("history/<str:app_label>/<str:model>/<int:object_id>/", views.ObjectHistoryView.as_view(),
         name="object_history"),
]
