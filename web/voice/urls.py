from django.urls import path

from web.voice import views

app_name = "voice"
urlpatterns = [
    path("", views.TrunkListView.as_view(), name="trunk_list"),
    path("calls/", views.CallListView.as_view(), name="call_list"),
    path("calls/export.csv", views.CallExportView.as_view(file_format="csv"), name="call_export_csv"),
    path("calls/export.xlsx", views.CallExportView.as_view(file_format="xlsx"), name="call_export_xlsx"),
    path("extensions/", views.ExtensionListView.as_view(), name="extension_list"),
    path("extensions/add/", views.ExtensionCreateView.as_view(), name="extension_add"),
    path("extensions/import/", views.ExtensionImportView.as_view(), name="extension_import"),
    path("extensions/export.csv", views.ExtensionExportView.as_view(), name="extension_export"),
    path("extensions/<int:pk>/edit/", views.ExtensionUpdateView.as_view(), name="extension_edit"),
    path("extensions/<int:pk>/delete/", views.ExtensionDeleteView.as_view(), name="extension_delete"),
    path("rate-plans/", views.RatePlanListView.as_view(), name="rate_plans"),
    path("departments/", views.DepartmentCostView.as_view(), name="departments"),
]
