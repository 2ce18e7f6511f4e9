from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter


class FindingsRootView(APIRootView):
    """Audit findings with stable ids, suppression rules, disputes with evidence packs."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = FindingsRootView

app_name = "findings-api"
urlpatterns = router.urls
