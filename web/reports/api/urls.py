from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.reports.api import views


class ReportsRootView(APIRootView):
    """Reports: schedules and the sent reports."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = ReportsRootView
router.register("schedules", views.ReportScheduleViewSet)
router.register("deliveries", views.ReportDeliveryViewSet)

app_name = "reports-api"
urlpatterns = router.urls
