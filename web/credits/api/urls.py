from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter


class CreditsRootView(APIRootView):
    """Credit and adjustment lines matched to open disputes."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = CreditsRootView

app_name = "credits-api"
urlpatterns = router.urls
