"""Periodic inspections (정기 점검, brief §9.1): a plan (what to look at, where, how often, who) and its
inspections, each with one result per checklist item.

The checklist is copied into an inspection's results when it is created, so editing a plan never rewrites what
an earlier inspection found. State changes go through :mod:`web.inspections.services`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linewatch.choices import InspectionOutcome, InspectionRecurrence, InspectionState
from web.audit.models import ChangeLoggedModel
from web.inspections.labels import OUTCOME_CHOICES, RECURRENCE_CHOICES, STATE_CHOICES, STATE_COLOURS
from web.inventory.models import Line, Site


def checklist_items(value: Any) -> list[str]:
    """``value`` as checklist items: a list of non-empty strings (a text: one item per line)."""
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError({"checklist": _("a list of texts, one per item")})
    return [item.strip() for item in value if item.strip()]


class InspectionPlan(ChangeLoggedModel):
    name = models.CharField(_("name"), max_length=128, unique=True)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, null=True, blank=True,
                             related_name="inspection_plans")
    lines = models.ManyToManyField(Line, verbose_name=_("lines"), blank=True, related_name="inspection_plans")
    checklist = models.JSONField(_("checklist"), default=list,
                                 help_text=_("the items to check, in order (one per line)"))
    recurrence = models.CharField(_("repeats"), max_length=16, choices=RECURRENCE_CHOICES,
                                  default=InspectionRecurrence.EVERY_N_DAYS)
    interval_days = models.PositiveIntegerField(_("every N days"), null=True, blank=True,
                                                validators=[MinValueValidator(1)])
    month_day = models.PositiveSmallIntegerField(
        _("day of the month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("29 to 31: the month's last day in shorter months"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="inspection_plans")
    next_due = models.DateField(_("next due"), help_text=_("the due day of the next inspection to schedule"))
    remind_days = models.PositiveSmallIntegerField(_("remind days before"), default=3,
                                                   help_text=_("the assignee is reminded this many days ahead"))
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inspections:plan_detail", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            self.checklist = checklist_items(self.checklist)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if not self.checklist:
                errors["checklist"] = _("at least one item to check")
        if self.recurrence == InspectionRecurrence.EVERY_N_DAYS and not self.interval_days:
            errors["interval_days"] = _("required when the plan repeats every N days")
        if self.recurrence == InspectionRecurrence.MONTHLY_DAY and not self.month_day:
            errors["month_day"] = _("required when the plan repeats on a day of the month")
        if errors:
            raise ValidationError(errors)


class InspectionQuerySet(models.QuerySet["Inspection"]):
    def open(self) -> InspectionQuerySet:
        """Not performed yet (due or overdue)."""
        return self.exclude(state=InspectionState.DONE)


class Inspection(ChangeLoggedModel):
    plan = models.ForeignKey(InspectionPlan, verbose_name=_("plan"), on_delete=models.PROTECT,
                             related_name="inspections")
    due = models.DateField(_("due"))
    state = models.CharField(_("state"), max_length=16, choices=STATE_CHOICES, default=InspectionState.DUE)
    performed_at = models.DateTimeField(_("performed at"), null=True, blank=True)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("performed by"),
                                     on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="inspections_performed")
    follow_up = models.TextField(_("follow-up"), blank=True, help_text=_("what needs doing after this inspection"))

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ("due", "plan__name")
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        constraints = (models.UniqueConstraint(fields=("plan", "due"), name="inspection_once_per_plan_and_day"),)

    def __str__(self) -> str:
        return f"{self.plan} {self.due.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse("inspections:inspection_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state != InspectionState.DONE

    @property
    def state_colour(self) -> str:
        return STATE_COLOURS[InspectionState(self.state)]


class InspectionResult(ChangeLoggedModel):
    """One checklist item of an inspection and what was found (empty outcome: not performed yet)."""

    inspection = models.ForeignKey(Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE,
                                   related_name="results")
    position = models.PositiveSmallIntegerField(_("position"))
    item = models.CharField(_("item"), max_length=500)
    outcome = models.CharField(_("outcome"), max_length=8, choices=OUTCOME_CHOICES, blank=True)
    note = models.TextField(_("note"), blank=True)
    ticket = models.ForeignKey("faults.Ticket", verbose_name=_("fault ticket"), on_delete=models.SET_NULL,
                               null=True, blank=True, related_name="inspection_results",
                               help_text=_("the ticket opened from this failed item"))

    class Meta:
        ordering = ("inspection", "position")
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        constraints = (models.UniqueConstraint(fields=("inspection", "position"),
                                               name="inspection_result_once_per_item"),)

    def __str__(self) -> str:
        return f"{self.inspection} #{self.position + 1} {self.item}"

    @property
    def failed(self) -> bool:
        return self.outcome == InspectionOutcome.NOT_OK
