from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.finance.api import views


class FinanceRootView(APIRootView):
    """Budgets per department or cost centre, actual costs, the finance KPIs."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = FinanceRootView
router.register("budgets", views.BudgetViewSet)
router.register("actuals", views.CostActualViewSet)
router.register("kpis", views.KpiViewSet, basename="kpis")

app_name = "finance-api"
urlpatterns = router.urls
