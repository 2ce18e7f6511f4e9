from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from web.inventory.api import documents, views


class InventoryRootView(APIRootView):
    """The inventory: carriers, sites, departments, cost centres, devices, lines (and their capacity changes),
    contracts (and their changes), planned maintenance."""

    permission_classes = (IsAuthenticated,)


router = DefaultRouter()
router.APIRootView = InventoryRootView
router.register("carriers", views.CarrierViewSet)
router.register("billing-accounts", views.BillingAccountViewSet)
router.register("contacts", views.ContactViewSet)
router.register("sites", views.SiteViewSet)
router.register("departments", views.DepartmentViewSet)
router.register("cost-centres", views.CostCentreViewSet)
router.register("devices", views.DeviceViewSet)
router.register("lines", views.LineViewSet)
router.register("line-members", views.LineMemberViewSet)
router.register("capacity-changes", views.CapacityChangeViewSet)
router.register("contracts", views.ContractViewSet)
router.register("discounts", views.DiscountViewSet)
router.register("credit-tiers", views.CreditTierViewSet)
router.register("contract-changes", views.ContractChangeViewSet)
router.register("maintenance", views.PlannedMaintenanceViewSet)
router.register("documents", documents.DocumentViewSet)

app_name = "inventory-api"
urlpatterns = router.urls
