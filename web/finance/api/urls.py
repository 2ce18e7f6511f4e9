from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter


class FinanceRootView(APIRootView):
    """Finance per department or cost centre, actual costs, variance, chargeback."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = FinanceRootView

app_name = "finance-api"
urlpatterns = router.urls
