from django.urls import path

from web.finance import views

app_name = "finance"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("budgets/", views.BudgetListView.as_view(), name="budget_list"),
    path("budgets/add/", views.BudgetCreateView.as_view(), name="budget_add"),
    path("budgets/import/", views.BudgetImportView.as_view(), name="budget_import"),
    path("budgets/<int:pk>/edit/", views.BudgetUpdateView.as_view(), name="budget_edit"),
    path("chargeback/", views.ChargebackView.as_view(), name="chargeback"),
    path("chargeback/export.csv", views.ChargebackExportView.as_view(kind="csv"), name="chargeback_csv"),
    path("chargeback/export.xlsx", views.ChargebackExportView.as_view(kind="xlsx"), name="chargeback_xlsx"),
]
