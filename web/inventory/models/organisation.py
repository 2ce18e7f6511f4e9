"""Where lines are and who pays for them: sites, departments, cost centres."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from web.audit.models import ChangeLoggedModel


class Site(ChangeLoggedModel):
    name = models.CharField(_("name"), max_length=128, unique=True)
    code = models.CharField(_("code"), max_length=32, blank=True)
    address = models.TextField(_("address"), blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:site_detail", args=[self.pk])


class Department(ChangeLoggedModel):
    name = models.CharField(_("name"), max_length=128, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class CostCentre(ChangeLoggedModel):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128, blank=True)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="cost_centres")
    gl_account = models.CharField(_("GL account"), max_length=64, blank=True,
                                  help_text=_("the general-ledger account its line costs are booked to (AP export)"))

    class Meta:
        ordering = ("code",)
        verbose_name = _("cost centre")
        verbose_name_plural = _("cost centres")

    def __str__(self) -> str:
        return self.code
