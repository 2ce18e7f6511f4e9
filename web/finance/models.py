"""Budgets (예산) per department or cost centre, per month or for a whole year, and the actual costs the billing ETL
found per line and period (written by :func:`web.finance.services.record_costs`, replaced at every audit of the
period). Variance, projection and chargeback are computed from these two (:mod:`web.finance.budgets`,
:mod:`web.finance.chargeback`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linewatch.choices import BudgetScope
from web.audit.models import ChangeLoggedModel
from web.finance.labels import SCOPE_CHOICES
from web.inventory.models import CostCentre, Department, Line

AMOUNT = {"max_digits": 14, "decimal_places": 4}
PERIOD_VALIDATOR = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", _("a month as YYYY-MM"))
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", _("an ISO 4217 code of three capital letters, e.g. EUR"))


def _unique(name: str, target: str, *, monthly: bool) -> models.UniqueConstraint:
    fields = (target, "year", "currency", "month") if monthly else (target, "year", "currency")
    return models.UniqueConstraint(
        fields=fields, name=name,
        condition=Q(scope=target) & Q(month__isnull=not monthly),
        violation_error_message=_("a budget for this scope, year, month and currency exists already"))


class Budget(ChangeLoggedModel):
    """What a department or cost centre may spend on lines in one month, or in a whole year (``month`` empty).

    A scope's year is budgeted either by month or as a whole year, not both (:meth:`clean`)."""

    scope = models.CharField(_("scope"), max_length=16, choices=SCOPE_CHOICES, default=BudgetScope.DEPARTMENT)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="budgets")
    cost_centre = models.ForeignKey(CostCentre, verbose_name=_("cost centre"), on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True,
                                             validators=[MinValueValidator(1), MaxValueValidator(12)],
                                             help_text=_("empty: the budget of the whole year"))
    amount = models.DecimalField(_("amount"), **AMOUNT, validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, validators=[CURRENCY_VALIDATOR])
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ("year", "month", "scope", "department__name", "cost_centre__code", "currency")
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        constraints = (
            _unique("budget_department_month_once", "department", monthly=True),
            _unique("budget_department_year_once", "department", monthly=False),
            _unique("budget_cost_centre_month_once", "cost_centre", monthly=True),
            _unique("budget_cost_centre_year_once", "cost_centre", monthly=False),
        )

    def __str__(self) -> str:
        when = f"{self.year}-{self.month:02d}" if self.month else str(self.year)
        return f"{self.target_name} {when} {self.amount} {self.currency}"

    @property
    def target_name(self) -> str:
        """The department's name or the cost centre's code."""
        target = self.department if self.scope == BudgetScope.DEPARTMENT else self.cost_centre
        return str(target) if target else ""

    def get_absolute_url(self) -> str:
        return reverse("finance:budget_edit", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.scope == BudgetScope.DEPARTMENT:
            if self.department_id is None:
                errors["department"] = _("required for a department's budget")
            if self.cost_centre_id is not None:
                errors["cost_centre"] = _("empty for a department's budget")
        elif self.scope == BudgetScope.COST_CENTRE:
            if self.cost_centre_id is None:
                errors["cost_centre"] = _("required for a cost centre's budget")
            if self.department_id is not None:
                errors["department"] = _("empty for a cost centre's budget")
        if self.currency:
            self.currency = self.currency.strip().upper()
        if not errors and self.year:
            target = {"department_id": self.department_id} if self.scope == BudgetScope.DEPARTMENT \
                else {"cost_centre_id": self.cost_centre_id}
            others = Budget.objects.filter(scope=self.scope, year=self.year, currency=self.currency, **target) \
                .exclude(pk=self.pk)
            if self.month and others.filter(month__isnull=True).exists():
                errors["month"] = _("this year has a budget for the whole year: budget it by month or as a year, "
                                    "not both")
            elif not self.month and others.filter(month__isnull=False).exists():
                errors["month"] = _("this year is budgeted by month: budget it by month or as a year, not both")
        if errors:
            raise ValidationError(errors)


class CostActual(ChangeLoggedModel):
    """What one line (or a ghost circuit, or a carrier's charges no line carries) cost in a billing period, as the
    billing ETL's audit found it: one row per line and currency of the ETL's Lines sheet. Names are kept beside
    the foreign keys, so a ghost circuit's or a deleted department's cost stays readable."""

    period = models.CharField(_("period"), max_length=7, validators=[PERIOD_VALIDATOR], db_index=True)
    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="cost_actuals")
    line_name = models.CharField(_("line"), max_length=128, blank=True)
    circuit_id = models.CharField(_("circuit ID"), max_length=128, blank=True)
    carrier_name = models.CharField(_("carrier"), max_length=128, blank=True)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="cost_actuals")
    department_name = models.CharField(_("department"), max_length=128, blank=True)
    cost_centre = models.ForeignKey(CostCentre, verbose_name=_("cost centre"), on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="cost_actuals")
    cost_centre_code = models.CharField(_("cost centre"), max_length=64, blank=True)
    billed_amount = models.DecimalField(_("billed"), **AMOUNT, default=0)
    allocated_amount = models.DecimalField(_("allocated"), **AMOUNT, default=0,
                                           help_text=_("the line's share of charges billed to no line"))
    amount = models.DecimalField(_("amount"), **AMOUNT, help_text=_("billed + allocated"))
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        ordering = ("period", "department_name", "cost_centre_code", "line_name", "circuit_id")
        verbose_name = _("actual cost")
        verbose_name_plural = _("actual costs")

    def __str__(self) -> str:
        return f"{self.period} {self.line_name or self.circuit_id} {self.amount} {self.currency}"
