"""Report schedules and their deliveries (the sent-report archive), brief §3.3.

A :class:`ReportSchedule` says which report goes to whom, in which language, for which department, every month or
week. Each period it delivers becomes one :class:`ReportDelivery` row, unique per schedule and period: the row and
the outbox message carrying the PDF are written in one transaction (:mod:`web.reports.schedule`), so a job run
twice, or after a restart, never sends a period twice. The rendered files stay under ``reports.output_dir`` and
are downloadable from the archive; the row keeps the report's name, language and department as they were, so
the archive survives a schedule's deletion.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linewatch.choices import Language, ReportDeliveryState, ReportPeriodKind
from web.audit.models import ChangeLoggedModel
from web.inventory.models import Department
from web.reports.labels import (
    DELIVERY_STATE_CHOICES,
    DELIVERY_STATE_COLOURS,
    LANGUAGE_CHOICES,
    PERIOD_KIND_CHOICES,
)

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
RECIPIENT_KINDS = ("user", "receiver", "email")


def recipient_entries(value: Any) -> list[dict[str, Any]]:
    """``value`` checked as the schedule's recipients: a list of one-key objects, ``{"user": ID}``,
    ``{"receiver": NAME}`` (a receiver of alerts.yaml) or ``{"email": ADDRESS}``; duplicates dropped.
    Raises ValidationError on the field ``recipients`` naming the entry and the reason."""
    if not isinstance(value, list):
        raise ValidationError({"recipients": _("a list of recipients")})
    out: list[dict[str, Any]] = []
    for n, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in RECIPIENT_KINDS:
            raise ValidationError({"recipients": _("recipient %(n)d: give one of user, receiver or email") % {
                "n": n}})
        kind, item = next(iter(entry.items()))
        if kind == "user" and (not isinstance(item, int) or isinstance(item, bool) or item < 1):
            raise ValidationError({"recipients": _("recipient %(n)d: a user's id") % {"n": n}})
        if kind == "receiver" and (not isinstance(item, str) or not item.strip() or len(item) > 128):
            raise ValidationError({"recipients": _("recipient %(n)d: a receiver's name") % {"n": n}})
        if kind == "email" and (not isinstance(item, str) or len(item) > 254 or not _ADDRESS.match(item)):
            raise ValidationError({"recipients": _("recipient %(n)d: %(value)s is not an email address") % {
                "n": n, "value": str(item)[:60]}})
        cleaned = {kind: item.strip() if isinstance(item, str) else item}
        if cleaned not in out:
            out.append(cleaned)
    return out


class ReportSchedule(ChangeLoggedModel):
    """One report, delivered every period to its recipients (the worker's job, :mod:`web.reports.jobs`)."""

    name = models.CharField(_("name"), max_length=128, unique=True)
    report = models.CharField(_("report"), max_length=100, help_text=_("the report's name (linewatch report list)"))
    period_kind = models.CharField(_("period"), max_length=8, choices=PERIOD_KIND_CHOICES,
                                   default=ReportPeriodKind.MONTH.value,
                                   help_text=_("the report's own period (a monthly report is delivered monthly)"))
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default=Language.EN.value)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="report_schedules",
                                   help_text=_("only this department's lines (empty: every department)"))
    # [{"user": 3}, {"receiver": "noc-email"}, {"email": "cfo@example.com"}] (recipient_entries)
    recipients = models.JSONField(_("recipients"), default=list)
    send_hour = models.PositiveSmallIntegerField(
        _("send at (hour)"), default=6, validators=[MaxValueValidator(23)],
        help_text=_("the hour (0-23, the reports' time zone) of the day after the period ends"))
    enabled = models.BooleanField(_("enabled"), default=True)
    next_run = models.DateTimeField(_("next run"), null=True, blank=True,
                                    help_text=_("when the next period is delivered (set by the worker)"))

    class Meta:
        ordering = ("name",)
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("reports:schedule_detail", args=[self.pk])

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new or edited schedule is looked at by the worker's next run (its due period may have changed)."""
        self.next_run = None
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from web.reports.recipients import check_recipients

        errors: dict[str, Any] = {}
        try:
            self.recipients = check_recipients(recipient_entries(self.recipients))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if not self.recipients:
                errors["recipients"] = _("at least one recipient")
        definition = _definition(self.report)
        if definition is None:
            errors["report"] = _("no report named %(name)s") % {"name": self.report}
        elif self.period_kind and definition.period_kind != self.period_kind:
            errors["period_kind"] = _("%(name)s covers a %(kind)s") % {
                "name": self.report, "kind": definition.period_kind.value}
        if errors:
            raise ValidationError(errors)


def _definition(name: str) -> Any:
    from web.reports.engine import definitions

    return next((d for d in definitions() if d.name == name), None)


class ReportDelivery(ChangeLoggedModel):
    """One period of one schedule: rendered (files kept, outbox message queued in the same transaction), sent (the
    outbox delivered it) or failed (rendering failed; the next run of the job tries again)."""

    schedule = models.ForeignKey(ReportSchedule, verbose_name=_("schedule"), on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="deliveries")
    report = models.CharField(_("report"), max_length=100)
    period = models.CharField(_("period"), max_length=16)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default=Language.EN.value)
    department = models.CharField(_("department"), max_length=128, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=DELIVERY_STATE_CHOICES, db_index=True)
    # Relative to reports.output_dir (web.reports.archive).
    html_file = models.CharField(_("HTML file"), max_length=300, blank=True)
    pdf_file = models.CharField(_("PDF file"), max_length=300, blank=True)
    pdf_size = models.PositiveIntegerField(_("PDF size (bytes)"), null=True, blank=True)
    message = models.ForeignKey("notify.OutboxMessage", verbose_name=_("outbox message"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="+")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ("-period", "-pk")
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        constraints = (models.UniqueConstraint(fields=("schedule", "period"),
                                               name="report_delivery_once_per_period"),)

    def __str__(self) -> str:
        return f"{self.report} {self.period}"

    def get_absolute_url(self) -> str:
        return reverse("reports:delivery_list") + f"#delivery-{self.pk}"

    @property
    def state_colour(self) -> str:
        return DELIVERY_STATE_COLOURS[ReportDeliveryState(self.state)]
