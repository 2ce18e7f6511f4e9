from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter


class IntakeRootView(APIRootView):
    """Invoices collected from a drop folder and an IMAP mailbox."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = IntakeRootView

app_name = "intake-api"
urlpatterns = router.urls
