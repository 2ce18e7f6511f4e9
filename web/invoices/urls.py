from django.urls import path

from web.invoices import views

app_name = "invoices"
urlpatterns = [
    path("", views.InvoiceListView.as_view(), name="invoice_list"),
    path("<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("<int:pk>/move/", views.InvoiceMoveView.as_view(), name="invoice_move"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("export.csv", views.ExportView.as_view(fmt="csv"), name="invoice_export_csv"),
    path("export.xlsx", views.ExportView.as_view(fmt="xlsx"), name="invoice_export_xlsx"),
]
