from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.orders.api import views


class OrdersRootView(APIRootView):
    """Orders: new lines, changes, terminations (docs/orders.md)."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = OrdersRootView
router.include_root_view = False  # /api/orders/ is the orders' list
# Before the orders: their {id} would otherwise match "steps".
router.register("steps", views.OrderStepViewSet)
router.register("recovery-items", views.RecoveryItemViewSet)
router.register("", views.OrderViewSet, basename="order")

app_name = "orders-api"
urlpatterns = router.urls
