from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter


class BudgetsRootView(APIRootView):
    """Budgets per department or cost centre, actual costs, variance, chargeback."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = BudgetsRootView

app_name = "budgets-api"
urlpatterns = router.urls
