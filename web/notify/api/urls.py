from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.notify.api import views


class NotifyRootView(APIRootView):
    """The application's outbox and message templates (read-only)."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = NotifyRootView
router.register("outbox", views.OutboxMessageViewSet)
router.register("templates", views.MessageTemplateViewSet)

urlpatterns = router.urls
