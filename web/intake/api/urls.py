from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.intake.api import views


class IntakeRootView(APIRootView):
    """Invoices collected from a drop folder and an IMAP mailbox."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = IntakeRootView
router.register("files", views.IntakeFileViewSet)
router.register("messages", views.IntakeMessageViewSet)

app_name = "intake-api"
urlpatterns = router.urls
