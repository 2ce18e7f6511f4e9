from rest_framework.routers import APIRootView, DefaultRouter

from web.credits.api import views


class CreditsRootView(APIRootView):
    """Credit and adjustment lines matched to open disputes (docs/credits.md)."""

    permission_classes = (views.CreditPermission,)


router = DefaultRouter()
router.APIRootView = CreditsRootView
router.register("matches", views.CreditMatchViewSet)
router.register("unmatched", views.UnmatchedCreditViewSet, basename="unmatched")

app_name = "credits-api"
urlpatterns = router.urls
