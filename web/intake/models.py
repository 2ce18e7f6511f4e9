"""What the intake collected: the emails read from the mailbox and every file found (folder, mailbox, upload).

Exactly once, across restarts, by these rows (never by memory): a message is known by its Message-ID (or, without
one, by the sha256 of its bytes), a file by its sha256. Rows are written by :mod:`web.intake.collect` only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linewatch.choices import IntakeOutcome
from web.audit.models import ChangeLoggedModel
from web.intake.labels import OUTCOME_CHOICES, OUTCOME_COLOURS, SOURCE_CHOICES
from web.inventory.models import Carrier

# Outcomes after which the same bytes are a duplicate (their invoices are in the store).
IMPORTED_OUTCOMES = (IntakeOutcome.IMPORTED, IntakeOutcome.QUARANTINED)


class IntakeMessage(ChangeLoggedModel):
    """One email of the intake mailbox, read once."""

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True,
                                  help_text=_("the message's Message-ID header, or sha256:… of the message"))
    mailbox = models.CharField(_("mailbox"), max_length=200, blank=True)
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True,
                                       help_text=_("the message's Date header"))
    collected_at = models.DateTimeField(_("collected at"))
    summary = models.TextField(_("outcome"), blank=True, help_text=_("what became of each attachment"))
    seen_again = models.PositiveIntegerField(_("seen again"), default=0,
                                             help_text=_("times the same message was found again (nothing imported)"))

    class Meta:
        ordering = ("-collected_at", "-pk")
        verbose_name = _("intake message")
        verbose_name_plural = _("intake messages")

    def __str__(self) -> str:
        return self.subject or self.message_id


class IntakeFile(ChangeLoggedModel):
    """One collected file and what became of it."""

    sha256 = models.CharField(_("sha256"), max_length=64, db_index=True)
    filename = models.CharField(_("file name"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    source = models.CharField(_("source"), max_length=16, choices=SOURCE_CHOICES)
    message = models.ForeignKey(IntakeMessage, verbose_name=_("message"), on_delete=models.CASCADE, null=True,
                                blank=True, related_name="files")
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="intake_files")
    carrier_name = models.CharField(_("carrier (carriers.yaml)"), max_length=128, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=OUTCOME_CHOICES)
    reason = models.TextField(_("reason"), blank=True)
    invoices = models.JSONField(_("invoices"), default=list, blank=True, help_text=_("the invoice numbers found"))
    rows_imported = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_quarantined = models.PositiveIntegerField(_("rows quarantined"), default=0)
    quarantine = models.JSONField(_("quarantined rows"), default=list, blank=True,
                                  help_text=_("[{row, field, reason}] of every row that did not load"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    collected_at = models.DateTimeField(_("collected at"))
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True,
                                       help_text=_("when the outcome was queued for intake.report_to"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)

    class Meta:
        ordering = ("-collected_at", "-pk")
        verbose_name = _("intake file")
        verbose_name_plural = _("intake files")
        permissions = (("retry_intakefile", _("Can retry an intake file")),)

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("intake:file_detail", args=[self.pk])

    @property
    def outcome_colour(self) -> str:
        return OUTCOME_COLOURS[IntakeOutcome(self.outcome)]

    @property
    def retryable(self) -> bool:
        """An error (ours) or a rejection (the configuration may have changed since) can be tried again."""
        return self.outcome in (IntakeOutcome.ERROR, IntakeOutcome.REJECTED)
