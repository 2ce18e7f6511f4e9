"""The extension directory (내선 번호부): each extension, or range of extensions, with the department (and cost
centre) its calls are charged to. Validated by the core's :class:`linewatch.voice.directory.Extension`, the rule the
CSV file and the billing ETL use.

``CallRecord`` has no table: it only holds the permission to read individual calls (numbers dialled are personal
data) — the call store itself is linewatch's SQLite file (``linewatch.voice.store``), never the app's database."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from linewatch.voice import directory
from web.audit.models import ChangeLoggedModel
from web.inventory.models import CostCentre, Department
from web.inventory.validation import field_errors

_ENTRY = TypeAdapter(directory.Extension)
_FIELDS = {("number",): "number", ("department",): "department", ("name",): "name",
           ("cost_centre",): "cost_centre"}


class Extension(ChangeLoggedModel):
    number = models.CharField(_("number"), max_length=33, unique=True, help_text=_(
        "the extension as the PBX writes it (3101), or a range ending in * (31*: every extension starting with 31; "
        "* alone: every other extension)"))
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="extensions")
    name = models.CharField(_("name"), max_length=128, blank=True, help_text=_("who or what answers it"))
    cost_centre = models.ForeignKey(CostCentre, verbose_name=_("cost centre"), on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="extensions")
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ("number",)
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("voice:extension_edit", args=[self.pk])

    def as_entry(self) -> directory.Extension:
        """The core's directory entry (department by name, cost centre by code)."""
        return directory.Extension(number=self.number, department=self.department.name, name=self.name,
                                   cost_centre=self.cost_centre.code if self.cost_centre_id else None)

    def clean(self) -> None:
        if self.number:
            self.number = self.number.strip()
        data = {"number": self.number, "department": self.department.name if self.department_id else "-",
                "name": self.name, "cost_centre": self.cost_centre.code if self.cost_centre_id else None}
        try:
            _ENTRY.validate_python(data)
        except PydanticValidationError as exc:
            raise field_errors(exc, fields=_FIELDS, model_field="number") from None


class CallRecord(models.Model):
    """No table: the permission ``voice.view_callrecord`` to read individual calls (/voice/calls/, the line page's
    latest calls, /api/voice/calls/)."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
