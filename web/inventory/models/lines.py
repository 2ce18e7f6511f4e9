"""Carrier lines and the interfaces that carry them (one, or several: a LAG, a primary/backup pair, ports on
two routers billed as one circuit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError as PydanticValidationError

from linewatch import inventory as yaml_inventory
from linewatch.choices import LineMemberRole, LineStatus, LineType
from web.audit.models import ChangeLoggedModel
from web.inventory.models.carriers import BillingAccount, Carrier
from web.inventory.models.devices import Device
from web.inventory.models.organisation import CostCentre, Department, Site
from web.inventory.validation import dated_versions, present, validate
from web.labels import choices_of

_LINE_FIELDS = {
    ("id",): "name", ("carrier",): "carrier", ("circuit_id",): "circuit_id", ("type",): "type",
    ("site",): "site", ("department",): "department", ("cost_centre",): "cost_centre",
    ("capacity_bps",): "capacity_bps", ("channels",): "channels", ("rate_plan",): "rate_plan", ("status",): "status", ("install_date",): "install_date",
    ("termination_date",): "termination_date", ("description",): "description",
}
_MEMBER_FIELDS = {("device",): "device", ("interface",): "interface", ("if_index",): "if_index"}
# Placeholder port for validating a line that has no member yet (the member rules are checked on the member).
_NO_PORT = {"device": "-", "if_index": 1}
_MEMBER_KEYS = frozenset({"device", "interface", "if_index", "role"})


@dataclass(frozen=True)
class MembersProblem:
    """A rule of the core's ``Line.members`` broken by a line's member interfaces taken together: ``row`` is the
    member whose addition breaks it (None when none does: a polled line without members), ``field`` that
    member's field (``role``, ``interface``/``if_index`` for a duplicate port)."""

    row: int | None
    field: str
    message: str


def _members_error(config: dict[str, Any], members: Sequence[Mapping[str, Any]]) -> tuple[Any, str] | None:
    """(location, message) of the first error the core's ``Line`` reports on ``members`` (other fields' errors
    are the line's own ``clean()``'s), else None."""
    try:
        yaml_inventory.Line.model_validate(config | {"members": [dict(m) for m in members]})
    except PydanticValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            if err["loc"][:1] == ("members",):
                return err["loc"], str(err["msg"]).removeprefix("Value error, ")
    return None


class Line(ChangeLoggedModel):
    name = models.CharField(_("line id"), max_length=128, unique=True)
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="lines")
    circuit_id = models.CharField(_("circuit id"), max_length=128, help_text=_("the carrier's reference"))
    billing_account = models.ForeignKey(BillingAccount, verbose_name=_("billing account"), on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="lines")
    type = models.CharField(_("type"), max_length=32, choices=choices_of(LineType))
    status = models.CharField(_("status"), max_length=32, choices=choices_of(LineStatus),
                              default=LineStatus.ACTIVE.value)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="lines")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="lines")
    cost_centre = models.ForeignKey(CostCentre, verbose_name=_("cost centre"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="lines")
    capacity_bps = models.PositiveBigIntegerField(_("capacity (bit/s)"),
                                                  help_text=_("contracted (committed) capacity in bits per second"))
    channels = models.PositiveIntegerField(_("channels"), null=True, blank=True,
                                           help_text=_("voice trunks: contracted concurrent calls"))
    rate_plan = models.CharField(_("rate plan"), max_length=128, blank=True,
                                 help_text=_("voice trunks: the contract's call tariff (a rate plan of voice.yaml)"))
    install_date = models.DateField(_("install date"), null=True, blank=True)
    termination_date = models.DateField(_("termination date"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("line")
        verbose_name_plural = _("lines")
        constraints = (models.UniqueConstraint(fields=("carrier", "circuit_id"), name="line_unique_circuit"),)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:line_detail", args=[self.pk])

    def get_status_colour(self) -> str:
        return LineStatus(self.status).colour

    def capacity_at(self, moment: dt.datetime) -> int:
        """The capacity (bit/s) at ``moment``: that of the last capacity change effective at or before it, else
        the capacity as installed (``capacity_bps``). Uses the prefetched changes when there are."""
        capacity = self.capacity_bps
        if self.pk is None:
            return capacity
        for change in sorted(self.capacity_changes.all(), key=lambda c: c.effective):
            if change.effective > moment:
                break
            capacity = change.capacity_bps
        return capacity

    def capacity_changes_config(self) -> list[dict[str, Any]]:
        """The saved capacity changes as lines.yaml's ``capacity_changes`` (by ``effective``)."""
        if self.pk is None:
            return []
        return [c.as_config() for c in sorted(self.capacity_changes.all(), key=lambda c: c.effective)]

    def as_config(self, port: dict[str, Any] | None = None) -> dict[str, Any]:
        """The line as a lines.yaml ``lines:`` entry carried by ``port`` (``{device, interface|if_index}``)."""
        return present(
            id=self.name, carrier=self.carrier.name if self.carrier_id else None, circuit_id=self.circuit_id,
            type=self.type, site=self.site.name if self.site_id else None,
            department=self.department.name if self.department_id else None,
            cost_centre=self.cost_centre.code if self.cost_centre_id else None, capacity_bps=self.capacity_bps,
            channels=self.channels, rate_plan=self.rate_plan or None, status=self.status, install_date=self.install_date, termination_date=self.termination_date,
            description=self.description,
        ) | (port or _NO_PORT) | ({"capacity_changes": changes} if (changes := self.capacity_changes_config())
                                  else {})

    def members_problem(self, members: Sequence[Mapping[str, Any]]) -> MembersProblem | None:
        """What the core's rules over a line's members (linewatch/inventory.py ``Line``: a polled line needs a
        member, no duplicate, one primary with backups only) say of ``members`` (``{device, interface |
        if_index, role}`` each, in row order) as this line's members: None if they hold."""
        config = {k: v for k, v in self.as_config().items() if k not in yaml_inventory.SINGLE_PORT_KEYS}
        found = _members_error(config, members)
        if found is None:
            return None
        message = found[1]
        for k in range(1, len(members) + 1):  # the first row whose addition breaks a rule is the offending one
            prefix = _members_error(config, members[:k])
            if prefix is None:
                continue
            loc, member = prefix[0], members[k - 1]
            if len(loc) >= 3 and loc[2] in _MEMBER_KEYS:
                return MembersProblem(k - 1, str(loc[2]), prefix[1])
            if len(loc) == 2:  # the member's own port rule (interface or if_index), as LineMember.clean() puts it
                return MembersProblem(k - 1, "interface", prefix[1])
            port = {key: member.get(key) for key in ("device", "interface", "if_index")}
            duplicate = any({key: m.get(key) for key in port} == port for m in members[:k - 1])
            field = ("interface" if member.get("interface") else "if_index") if duplicate else "role"
            return MembersProblem(k - 1, field, message)
        return MembersProblem(None, "role", message)

    def stored_members(self) -> list[dict[str, Any]]:
        """The line's members as saved, ``{device, interface | if_index, role}`` each."""
        return [m.member() for m in self.members.select_related("device").order_by("pk")]

    #: Set by a write that replaces the members with the line (the API's nested ``members``): ``clean()`` leaves
    #: the saved members alone, that write checks its members with ``members_problem`` and each member's
    #: ``LineMember.clean()``.
    replacing_members = False

    def clean(self) -> None:
        validate(yaml_inventory.Line, self.as_config(), fields=_LINE_FIELDS, model_field="termination_date")
        if self.pk and not self.replacing_members:  # a change of the line (its status) must leave its members valid
            problem = self.members_problem(self.stored_members())
            if problem is not None:
                raise ValidationError({"status": [problem.message]})
        if self.pk and not self.replacing_members and self.status != LineStatus.DECOMMISSIONED:
            # Leaving "decommissioned": its ports may carry another line by now.
            conflicts = [c for m in self.members.select_related("device") if (c := m.port_conflict())]
            if conflicts:
                raise ValidationError({"status": conflicts})
        if self.billing_account_id and self.carrier_id and self.billing_account.carrier_id != self.carrier_id:
            raise ValidationError({"billing_account": [
                _("billing account %(account)s belongs to %(carrier)s") % {
                    "account": self.billing_account.number, "carrier": self.billing_account.carrier}]})


class LineMember(ChangeLoggedModel):
    """One interface carrying (part of) a line. The line's traffic is the members' sum per sample."""

    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.CASCADE, related_name="members")
    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.PROTECT,
                               related_name="line_members")
    interface = models.CharField(_("interface"), max_length=128, blank=True, help_text=_("ifName, e.g. ge-0/0/0"))
    if_index = models.PositiveIntegerField(_("ifIndex"), null=True, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=choices_of(LineMemberRole),
                            default=LineMemberRole.MEMBER.value)

    class Meta:
        ordering = ("line", "role", "device", "interface", "if_index")
        verbose_name = _("line member")
        verbose_name_plural = _("line members")

    def __str__(self) -> str:
        return f"{self.line}: {self.device} {self.interface_label}"

    @property
    def interface_label(self) -> str:
        return self.interface or f"ifIndex:{self.if_index}"

    def member(self) -> dict[str, Any]:
        """``{device, interface | if_index, role}``: the member as the core's ``LineMember``."""
        return self.port() | {"role": self.role}

    def port_key(self) -> tuple[int | None, str, int | None]:
        """(device id, interface, ifIndex): the port, as kept rows are matched."""
        return self.device_id, self.interface or "", self.if_index

    def port(self) -> dict[str, Any]:
        return present(device=self.device.name if self.device_id else None, interface=self.interface,
                       if_index=self.if_index)

    def clean(self) -> None:
        if not self.line_id or not self.device_id:
            return  # the required-field errors say so
        validate(yaml_inventory.Line, self.line.as_config(self.port()), fields=_MEMBER_FIELDS,
                 model_field="interface")
        if self.line.status == LineStatus.DECOMMISSIONED:
            return
        conflict = self.port_conflict()
        if conflict is not None:
            raise ValidationError({"interface" if self.interface else "if_index": [conflict]})

    def port_conflict(self) -> str | None:
        """Why this port cannot carry its line: another line that is not decommissioned uses it (None if free)."""
        same_port = LineMember.objects.filter(device_id=self.device_id).exclude(line_id=self.line_id).exclude(
            line__status=LineStatus.DECOMMISSIONED)
        same_port = (same_port.filter(interface=self.interface) if self.interface
                     else same_port.filter(if_index=self.if_index))
        other = same_port.select_related("line").first()
        if other is None:
            return None
        return _("%(port)s on %(device)s already carries line %(line)s") % {
            "port": self.interface_label, "device": self.device, "line": other.line}


class CapacityChange(ChangeLoggedModel):
    """A line's capacity from ``effective`` on (an upgrade or a downgrade): until the first change the line has
    its ``capacity_bps`` as installed. lines.yaml's ``capacity_changes`` (linewatch/inventory.py)."""

    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.CASCADE,
                             related_name="capacity_changes")
    effective = models.DateTimeField(_("effective"), help_text=_("the moment the new capacity applies from"))
    capacity_bps = models.PositiveBigIntegerField(_("capacity (bit/s)"), help_text=_("the capacity from then on"))

    class Meta:
        ordering = ("line", "effective")
        verbose_name = _("capacity change")
        verbose_name_plural = _("capacity changes")
        constraints = (models.UniqueConstraint(fields=("line", "effective"), name="capacity_change_unique_moment"),)

    def __str__(self) -> str:
        return f"{self.line}: {self.capacity_bps} bit/s from {self.effective.isoformat() if self.effective else '?'}"

    def get_absolute_url(self) -> str:
        return self.line.get_absolute_url()

    def as_config(self) -> dict[str, Any]:
        """The change as a ``capacity_changes:`` entry."""
        return present(effective=self.effective.isoformat() if self.effective else None,
                       capacity_bps=self.capacity_bps)

    def clean(self) -> None:
        if not self.line_id or self.effective is None or self.capacity_bps is None:
            return  # the required-field errors say so
        # The line with its other changes and this one, as the core validates lines.yaml (order, after install).
        changes, row = dated_versions(self, self.line.capacity_changes.all())
        config = self.line.as_config() | {"capacity_changes": changes}
        validate(yaml_inventory.Line, config, model_field="effective", fields={
            ("capacity_changes", row, "effective"): "effective",
            ("capacity_changes", row, "capacity_bps"): "capacity_bps"})


def capacities_now(line_ids: list[int]) -> dict[int, int]:
    """The capacity now of each of ``line_ids`` that has a capacity change in force (one query; the others have
    their capacity as installed): as :meth:`Line.capacity_at`."""
    now: dict[int, int] = {}
    for line_id, capacity_bps in CapacityChange.objects.filter(
            line_id__in=line_ids, effective__lte=django_timezone.now()).order_by("line_id", "effective").values_list(
            "line_id", "capacity_bps"):
        now[line_id] = capacity_bps  # the last one in force wins
    return now
