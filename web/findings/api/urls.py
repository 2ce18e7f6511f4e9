from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.findings.api import views


class FindingsRootView(APIRootView):
    """Audit findings with stable ids, suppression rules, disputes with evidence packs (docs/disputes.md)."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = FindingsRootView
router.include_root_view = False  # /api/findings/ is the findings' list
# Before the findings: their {id} would otherwise match "disputes".
router.register("suppressions", views.SuppressionRuleViewSet)
router.register("disputes", views.DisputeViewSet)
router.register("", views.FindingViewSet, basename="finding")

app_name = "findings-api"
urlpatterns = router.urls
