from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter


class InvoicesRootView(APIRootView):
    """Carrier invoices: states from received to paid, approval, payments calendar, accounts-payable export."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = InvoicesRootView

app_name = "invoices-api"
urlpatterns = router.urls
