"""Three-line viewsets of the inventory (the base restricts, validates and logs: web/api/viewsets.py)."""

from __future__ import annotations

from web.api.viewsets import ModelViewSet
from web.inventory import models
from web.inventory.api import serializers
from web.inventory.filtersets import LineFilterSet


class CarrierViewSet(ModelViewSet):
    queryset = models.Carrier.objects.all()
    serializer_class = serializers.CarrierSerializer
    filterset_fields = ("name", "currency")


class BillingAccountViewSet(ModelViewSet):
    queryset = models.BillingAccount.objects.select_related("carrier")
    serializer_class = serializers.BillingAccountSerializer
    filterset_fields = ("carrier", "number")


class ContactViewSet(ModelViewSet):
    queryset = models.Contact.objects.select_related("carrier")
    serializer_class = serializers.ContactSerializer
    filterset_fields = ("carrier", "role")


class SiteViewSet(ModelViewSet):
    queryset = models.Site.objects.all()
    serializer_class = serializers.SiteSerializer
    filterset_fields = ("name", "code")


class DepartmentViewSet(ModelViewSet):
    queryset = models.Department.objects.all()
    serializer_class = serializers.DepartmentSerializer
    filterset_fields = ("name",)


class CostCentreViewSet(ModelViewSet):
    queryset = models.CostCentre.objects.select_related("department")
    serializer_class = serializers.CostCentreSerializer
    filterset_fields = ("code", "department")


class DeviceViewSet(ModelViewSet):
    queryset = models.Device.objects.select_related("site")
    serializer_class = serializers.DeviceSerializer
    filterset_fields = ("name", "site", "snmp_version")  # never the secrets (encrypted: not filterable)


class LineViewSet(ModelViewSet):
    queryset = models.Line.objects.select_related("carrier", "site", "department").prefetch_related(
        "members", "capacity_changes")
    serializer_class = serializers.LineSerializer
    filterset_class = LineFilterSet


class LineMemberViewSet(ModelViewSet):
    queryset = models.LineMember.objects.select_related("line", "device")
    serializer_class = serializers.LineMemberSerializer
    filterset_fields = ("line", "device", "role")

    def perform_destroy(self, instance: models.LineMember) -> None:
        serializers.check_members_without(instance)  # the last member of a polled line, a primary with backups
        super().perform_destroy(instance)


class ContractViewSet(ModelViewSet):
    queryset = models.Contract.objects.select_related("line__carrier").prefetch_related(
        "discounts", "credit_tiers", "changes")
    serializer_class = serializers.ContractSerializer
    filterset_fields = ("line", "billing_model", "currency")


class DiscountViewSet(ModelViewSet):
    queryset = models.Discount.objects.all()
    serializer_class = serializers.DiscountSerializer
    filterset_fields = ("contract",)


class CreditTierViewSet(ModelViewSet):
    queryset = models.CreditTier.objects.all()
    serializer_class = serializers.CreditTierSerializer
    filterset_fields = ("contract",)


class CapacityChangeViewSet(ModelViewSet):
    queryset = models.CapacityChange.objects.select_related("line")
    serializer_class = serializers.CapacityChangeSerializer
    filterset_fields = ("line",)


class ContractChangeViewSet(ModelViewSet):
    queryset = models.ContractChange.objects.select_related("contract")
    serializer_class = serializers.ContractChangeSerializer
    filterset_fields = ("contract",)


class PlannedMaintenanceViewSet(ModelViewSet):
    queryset = models.PlannedMaintenance.objects.select_related("carrier").prefetch_related("lines")
    serializer_class = serializers.PlannedMaintenanceSerializer
    filterset_fields = ("carrier", "lines")
