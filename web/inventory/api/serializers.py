"""Serializers of every inventory model. Device secrets are write-only: accepted, never returned."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from linewatch.choices import LineMemberRole
from web.accounts.permissions import changeable_fields
from web.api.permissions import request_token
from web.api.serializers import ValidatedModelSerializer, field_errors
from web.inventory import models
from web.inventory.forms import check_rate_plan


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


class CapacityChangeSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.CapacityChange
        fields = "__all__"


class _CapacityChangeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.CapacityChange
        fields = ("id", "effective", "capacity_bps")


class LineSerializer(ValidatedModelSerializer):
    """``members`` given (POST, PUT, PATCH) makes the line's members exactly those, in the same transaction: a
    kept port (device, interface, ifIndex) keeps its row and history, its role updated. They are checked together
    with the line's new values by the core's rules before anything is saved (400 ``{"members": {"1": {"role":
    […]}}}``: the offending row, as DRF's own errors of a list). Left out of a PATCH, the members are untouched."""

    members = LineMemberBriefSerializer(many=True, required=False, help_text=gettext_lazy(
        "the line's member interfaces: given, they replace the line's members"))
    capacity_changes = _CapacityChangeBriefSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "the line's capacity from a moment on (written at /api/inventory/capacity-changes/)"))
    capacity_now_bps = serializers.SerializerMethodField(help_text=gettext_lazy("the capacity in force now"))

    class Meta:
        model = models.Line
        fields = "__all__"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        members = attrs.pop("members", None)
        if members is None and self.instance is None:
            members = []  # a new line has none: a polled one must be given its members (400 naming members)
        self._members = members
        request = self.context.get("request")
        if members is not None and self.instance is not None and request is not None:
            self._check_changeable(request, models.Line, attrs, replaced=("members",))  # the NOC: 403
        attrs = super().validate(attrs)
        if members is None:
            return attrs
        missing = {i: {"device": [str(_REQUIRED)]} for i, m in enumerate(members) if not m.get("device")}
        if missing:
            raise serializers.ValidationError({"members": missing})
        problem = self._line.members_problem([_member(self._line, m).member() for m in members])
        if problem is not None:
            if problem.row is None:
                raise serializers.ValidationError({"members": [problem.message]})
            raise serializers.ValidationError({"members": {problem.row: {problem.field: [problem.message]}}})
        return attrs | {"members": members}

    def validate_rate_plan(self, value: str) -> str:
        request = self.context.get("request")
        allowed = changeable_fields(request.user, models.Line, token=request_token(request)) if request is not None else None
        if allowed is not None and "rate_plan" not in allowed:
            return value  # validate() refuses the change with 403, as for every field the role may not change
        try:
            return check_rate_plan(value, self.instance.rate_plan if self.instance is not None else "")
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def get_capacity_now_bps(self, line: models.Line) -> int:
        return line.capacity_at(timezone.now())

    def would_be(self, attrs: dict[str, Any]) -> models.Line:
        line = super().would_be(attrs)
        line.replacing_members = self._members is not None
        self._line = line
        return line

    def create(self, validated_data: dict[str, Any]) -> models.Line:
        members = validated_data.pop("members", None)
        line = super().create(validated_data)
        if members is not None:
            _replace_members(line, members)
        return line

    def update(self, instance: models.Line, validated_data: dict[str, Any]) -> models.Line:
        members = validated_data.pop("members", None)
        line = super().update(instance, validated_data)
        if members is not None:
            _replace_members(line, members)
        return line


_REQUIRED = serializers.Field.default_error_messages["required"]


def _member(line: models.Line, values: dict[str, Any]) -> models.LineMember:
    return models.LineMember(line=line, device=values["device"], interface=values.get("interface") or "",
                             if_index=values.get("if_index"),
                             role=values.get("role") or LineMemberRole.MEMBER.value)


def _replace_members(line: models.Line, members: list[dict[str, Any]]) -> None:
    """``line``'s members become exactly ``members`` (as the form and the import: a kept port keeps its row, each
    saved change-logged); a member its own rules refuse (a port of another line) is a 400 naming its row, the
    caller's transaction rolled back."""
    have = {m.port_key(): m for m in line.members.select_related("device")}
    wanted = [_member(line, values) for values in members]
    keep = {m.port_key() for m in wanted}
    for key, member in have.items():  # first: a port moving between rows is free when it is saved again
        if key not in keep:
            member.delete()
    errors: dict[int, dict[str, list[str]]] = {}
    for row, new in enumerate(wanted):
        member = have.get(new.port_key())
        if member is not None and member.role == new.role:
            continue
        if member is not None:
            member.role = new.role
        else:
            member = new
        try:
            member.full_clean()
        except DjangoValidationError as exc:
            errors[row] = field_errors(exc)
            continue
        member.save()
    if errors:
        raise serializers.ValidationError({"members": errors})


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


class ContractChangeSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.ContractChange
        fields = "__all__"


class _ContractChangeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.ContractChange
        fields = ("id", "effective", *models.ContractChange.TERMS)


class ContractSerializer(ValidatedModelSerializer):
    discounts = _DiscountBriefSerializer(many=True, read_only=True)
    credit_tiers = _CreditTierBriefSerializer(many=True, read_only=True)
    changes = _ContractChangeBriefSerializer(many=True, read_only=True)

    class Meta:
        model = models.Contract
        fields = "__all__"



class PlannedMaintenanceSerializer(ValidatedModelSerializer):
    """``lines``: the ids of the lines the work may interrupt (at least one; each of ``carrier`` when given)."""

    key = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "the window's id in lines.yaml and in the alerts' mute reason"))

    class Meta:
        model = models.PlannedMaintenance
        fields = "__all__"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        window = self._window
        lines = attrs["lines"] if "lines" in attrs else list(self.instance.lines.all())
        problem = window.lines_problem(lines)
        if problem is not None:
            raise serializers.ValidationError(field_errors(problem))
        return attrs

    def would_be(self, attrs: dict[str, Any]) -> models.PlannedMaintenance:
        self._window = super().would_be({k: v for k, v in attrs.items() if k != "lines"})
        return self._window
