from django.urls import path

from web.inventory import document_views, maintenance_views, views

app_name = "inventory"
urlpatterns = [
    path("lines/", views.LineListView.as_view(), name="line_list"),
    path("lines/add/", views.LineCreateView.as_view(), name="line_add"),
    path("lines/export.csv", views.LineExportView.as_view(file_format="csv"), name="line_export_csv"),
    path("lines/export.xlsx", views.LineExportView.as_view(file_format="xlsx"), name="line_export_xlsx"),
    path("lines/<int:pk>/", views.LineDetailView.as_view(), name="line_detail"),
    path("lines/<int:pk>/edit/", views.LineUpdateView.as_view(), name="line_edit"),
    path("carriers/", views.CarrierListView.as_view(), name="carrier_list"),
    path("carriers/add/", views.CarrierCreateView.as_view(), name="carrier_add"),
    path("carriers/<int:pk>/", views.CarrierDetailView.as_view(), name="carrier_detail"),
    path("carriers/<int:pk>/edit/", views.CarrierUpdateView.as_view(), name="carrier_edit"),
    path("sites/", views.SiteListView.as_view(), name="site_list"),
    path("sites/add/", views.SiteCreateView.as_view(), name="site_add"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site_detail"),
    path("sites/<int:pk>/edit/", views.SiteUpdateView.as_view(), name="site_edit"),
    path("devices/", views.DeviceListView.as_view(), name="device_list"),
    path("devices/add/", views.DeviceCreateView.as_view(), name="device_add"),
    path("devices/<int:pk>/", views.DeviceDetailView.as_view(), name="device_detail"),
    path("devices/<int:pk>/edit/", views.DeviceUpdateView.as_view(), name="device_edit"),
    path("contracts/add/", views.ContractCreateView.as_view(), name="contract_add"),
    path("contracts/<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.ContractUpdateView.as_view(), name="contract_edit"),
    path("rows/<slug:prefix>/", views.InlineRowView.as_view(), name="inline_row"),
    path("maintenance/", maintenance_views.MaintenanceListView.as_view(), name="maintenance_list"),
    path("maintenance/add/", maintenance_views.MaintenanceCreateView.as_view(), name="maintenance_add"),
    path("maintenance/lines/", maintenance_views.MaintenanceLinesView.as_view(), name="maintenance_lines"),
    path("maintenance/<int:pk>/", maintenance_views.MaintenanceDetailView.as_view(), name="maintenance_detail"),
    path("maintenance/<int:pk>/edit/", maintenance_views.MaintenanceUpdateView.as_view(), name="maintenance_edit"),
    path("documents/add/", document_views.DocumentUploadView.as_view(), name="document_add"),
    path("documents/<int:pk>/download/", document_views.DocumentDownloadView.as_view(), name="document_download"),
    path("documents/<int:pk>/delete/", document_views.DocumentDeleteView.as_view(), name="document_delete"),
]
