"""Serializers of every inventory model. Device secrets are write-only: accepted, never returned."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from web.api.serializers import ValidatedModelSerializer
from web.inventory import models


class CarrierSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.Carrier
        fields = "__all__"


class BillingAccountSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.BillingAccount
        fields = "__all__"


class ContactSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.Contact
        fields = "__all__"


class SiteSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.Site
        fields = "__all__"


class DepartmentSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.Department
        fields = "__all__"


class CostCentreSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.CostCentre
        fields = "__all__"


_SECRET = {"write_only": True, "required": False, "allow_blank": True,
           "style": {"input_type": "password"}}


class DeviceSerializer(ValidatedModelSerializer):
    """A secret left out keeps its stored value; ``""`` removes it. ``stored_secrets`` names those set."""

    stored_secrets = serializers.SerializerMethodField()

    class Meta:
        model = models.Device
        fields = "__all__"
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {name: _SECRET for name in models.Device.secret_fields}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_stored_secrets(self, device: models.Device) -> list[str]:
        return [name for name in models.Device.secret_fields if getattr(device, name)]


class LineMemberSerializer(ValidatedModelSerializer):
    """A member is also checked with its line's other members, by the core's rules over a line's members (no
    duplicate, one primary with backups only); moved to another line, its old line is checked without it."""

    class Meta:
        model = models.LineMember
        fields = "__all__"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        member = copy.copy(self.instance) if self.instance is not None else models.LineMember()
        for name, value in attrs.items():
            setattr(member, name, value)
        pk = self.instance.pk if self.instance is not None else None
        others = [m.member() for m in member.line.members.select_related("device").exclude(pk=pk).order_by("pk")]
        problem = member.line.members_problem([*others, member.member()])
        if problem is not None:
            raise serializers.ValidationError({problem.field if problem.row is not None else "line": [
                problem.message]})
        if self.instance is not None and self.instance.line_id != member.line_id:
            check_members_without(self.instance)
        return attrs


def check_members_without(member: models.LineMember) -> None:
    """400 naming ``line`` when ``member``'s line would break its members' rules without it (deleted, moved)."""
    line = member.line
    problem = line.members_problem([m.member() for m in line.members.select_related("device").exclude(
        pk=member.pk).order_by("pk")])
    if problem is not None:
        raise serializers.ValidationError({"line": [problem.message]})


class LineMemberBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.LineMember
        fields = ("id", "device", "interface", "if_index", "role")


class LineSerializer(ValidatedModelSerializer):
    members = LineMemberBriefSerializer(many=True, read_only=True)

    class Meta:
        model = models.Line
        fields = "__all__"


class DiscountSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.Discount
        fields = "__all__"


class CreditTierSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.CreditTier
        fields = "__all__"


class _DiscountBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.Discount
        fields = ("id", "name", "percent", "amount", "valid_from", "valid_to")


class _CreditTierBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.CreditTier
        fields = ("id", "below_pct", "credit_pct")


class ContractSerializer(ValidatedModelSerializer):
    discounts = _DiscountBriefSerializer(many=True, read_only=True)
    credit_tiers = _CreditTierBriefSerializer(many=True, read_only=True)

    class Meta:
        model = models.Contract
        fields = "__all__"

