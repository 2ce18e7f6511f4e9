from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.inspections.api import views


class InspectionsRootView(APIRootView):
    """Periodic inspections: plans and their inspections."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = InspectionsRootView
router.register("plans", views.InspectionPlanViewSet)
router.register("inspections", views.InspectionViewSet)

app_name = "inspections-api"
urlpatterns = router.urls
