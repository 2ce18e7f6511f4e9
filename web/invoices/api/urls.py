from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.invoices.api import views


class InvoicesRootView(APIRootView):
    """Carrier invoices: states from received to paid, approval, payment (docs/invoices.md)."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = InvoicesRootView
router.include_root_view = False  # /api/invoices/ is the invoices' list
router.register("", views.InvoiceViewSet, basename="invoice")

app_name = "invoices-api"
urlpatterns = router.urls
