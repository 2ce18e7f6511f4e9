from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.reports.api import views


class ReportsRootView(APIRootView):
    """Reports: schedules, the sent reports and the capacity outlook."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = ReportsRootView
router.register("schedules", views.ReportScheduleViewSet)
router.register("deliveries", views.ReportDeliveryViewSet)
router.register("outlook", views.OutlookViewSet, basename="outlook")

app_name = "reports-api"
urlpatterns = router.urls
