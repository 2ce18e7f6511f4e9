from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.faults.api import views


class FaultsRootView(APIRootView):
    """Fault tickets, SLA-credit claims; the alert intake is ``POST alerts/``."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = FaultsRootView
router.register("tickets", views.TicketViewSet)
router.register("claims", views.SlaClaimViewSet)

urlpatterns = [path("alerts/", views.AlertIntakeView.as_view(), name="faults-alert-intake"), *router.urls]
