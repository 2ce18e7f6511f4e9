from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter


class VoiceRootView(APIRootView):
    """Voice trunks: the extension directory (extensions to departments), calls, rate plans."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = VoiceRootView

app_name = "voice-api"
urlpatterns = router.urls
