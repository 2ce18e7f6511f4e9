"""Planned maintenance announced by a carrier: a window during which some of its lines may be down. Exported as
lines.yaml's top-level ``maintenance:`` (linewatch/inventory.py ``PlannedMaintenance``); the alert service mutes
those lines' notifications while a window is active."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linewatch import inventory as yaml_inventory
from web.audit.models import ChangeLoggedModel
from web.inventory.models.carriers import Carrier
from web.inventory.models.lines import Line
from web.inventory.validation import present, validate

ID_PREFIX = "MW-"
_FIELDS = {("id",): "carrier_reference", ("starts",): "starts", ("ends",): "ends",
           ("carrier_reference",): "carrier_reference", ("description",): "description", ("lines",): "lines"}


class MaintenanceQuerySet(QuerySet["PlannedMaintenance"]):
    def active(self, moment: dt.datetime) -> MaintenanceQuerySet:
        return self.filter(starts__lte=moment, ends__gt=moment)

    def upcoming(self, moment: dt.datetime) -> MaintenanceQuerySet:
        return self.filter(starts__gt=moment)

    def past(self, moment: dt.datetime) -> MaintenanceQuerySet:
        return self.filter(ends__lte=moment)

    def current_or_upcoming(self, moment: dt.datetime) -> MaintenanceQuerySet:
        """Windows not over at ``moment`` (active or upcoming)."""
        return self.filter(ends__gt=moment)


class PlannedMaintenance(ChangeLoggedModel):
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, null=True,
                                blank=True, related_name="maintenance_windows")
    lines = models.ManyToManyField(Line, verbose_name=_("lines"), related_name="maintenance_windows",
                                   help_text=_("the lines the work may interrupt"))
    starts = models.DateTimeField(_("starts"))
    ends = models.DateTimeField(_("ends"))
    carrier_reference = models.CharField(_("carrier reference"), max_length=128, blank=True,
                                         help_text=_("the carrier's change or ticket number"))
    description = models.TextField(_("description"), blank=True)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ("-starts", "-pk")
        verbose_name = _("planned maintenance")
        verbose_name_plural = _("planned maintenance")

    def __str__(self) -> str:
        ref = f" ({self.carrier_reference})" if self.carrier_reference else ""
        return f"{self.key}{ref}"

    @property
    def key(self) -> str:
        """The window's id in lines.yaml and the alert service's mute reason (``MW-<pk>``)."""
        return f"{ID_PREFIX}{self.pk}" if self.pk else ID_PREFIX.rstrip("-")

    def get_absolute_url(self) -> str:
        return reverse("inventory:maintenance_detail", args=[self.pk])

    def is_active(self, moment: dt.datetime) -> bool:
        return self.starts <= moment < self.ends

    def as_config(self, line_names: Iterable[str] | None = None) -> dict[str, Any]:
        """The window as a lines.yaml ``maintenance:`` entry (``line_names``: its lines, else the saved ones)."""
        if line_names is None:
            line_names = [line.name for line in self.lines.all()] if self.pk else []
        return {"id": self.key, "lines": sorted(line_names)} | present(
            starts=self.starts.isoformat() if self.starts else None,
            ends=self.ends.isoformat() if self.ends else None,
            carrier_reference=self.carrier_reference, description=self.description)

    def clean(self) -> None:
        if self.starts is None or self.ends is None:
            return  # the required-field errors say so
        # The window alone (its lines are checked by lines_problem: the M2M is saved after the row).
        validate(yaml_inventory.PlannedMaintenance, self.as_config(["-"]), fields=_FIELDS, model_field="ends")

    def lines_problem(self, lines: Iterable[Line]) -> ValidationError | None:
        """Why ``lines`` cannot be this window's: none given, or a line of another carrier (None if they can)."""
        lines = list(lines)
        if not lines:
            return ValidationError({"lines": [_("give at least one line")]})
        if self.carrier_id is not None:
            foreign = sorted(line.name for line in lines if line.carrier_id != self.carrier_id)
            if foreign:
                return ValidationError({"lines": [_("%(lines)s: not a line of carrier %(carrier)s") % {
                    "lines": ", ".join(foreign), "carrier": self.carrier}]})
        return None
