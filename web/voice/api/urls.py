from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.voice.api import views


class VoiceRootView(APIRootView):
    """Voice trunks: the extension directory (extensions to departments), calls, rate plans."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = VoiceRootView
router.register("extensions", views.ExtensionViewSet)
router.register("calls", views.CallViewSet, basename="calls")

app_name = "voice-api"
urlpatterns = router.urls
