"""The application's outbox (:class:`OutboxMessage`) and the editable message templates (:class:`MessageTemplate`).

A message is written in the caller's transaction (:func:`web.notify.outbox.enqueue`) and sent later by the worker
(:func:`web.notify.outbox.deliver_due`). Its creation and a manual retry are change-logged; the worker's delivery
bookkeeping (attempts, status, errors) is written with ``queryset.update()`` and kept on the row itself
(``attempt_log``), not in the change log (docs/notify.md).
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from linewatch.choices import DeliveryStatus, Language, MessageKind
from web.audit.models import ChangeLoggedModel
from web.notify.labels import STATUS_CHOICES

LANGUAGE_CHOICES = [(lang.value, lang.value) for lang in Language]


class OutboxMessage(ChangeLoggedModel):
    """One message to one or more recipients, rendered by the caller; ``key`` makes it unique."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    # [{"kind": "receiver"|"email"|"user", "receiver"?, "address"?, "name"?, "user_id"?, "language"}, ...]
    recipients = models.JSONField(_("recipients"))
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default=Language.EN.value)
    about_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("about (type)"))
    about_id = models.CharField(_("about (id)"), max_length=64, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    status = models.CharField(_("status"), max_length=16, choices=STATUS_CHOICES, default=DeliveryStatus.PENDING.value,
                              db_index=True)
    send_after = models.DateTimeField(_("send after"))
    next_attempt = models.DateTimeField(_("next attempt"), db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Indexes into ``recipients`` already delivered: a retry sends only to the others.
    delivered_to = models.JSONField(_("delivered to"), default=list, blank=True)
    attempt_log = models.JSONField(_("attempts log"), default=list, blank=True)  # [{"at", "recipient", "error"}]

    log_exclude = ("created", "last_updated", "text", "html", "attempt_log")

    class Meta:
        ordering = ("-created", "-pk")
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = (models.Index(fields=("about_type", "about_id"), name="notify_outbox_about"),)

    def __str__(self) -> str:
        return self.key


class OutboxAttachment(ChangeLoggedModel):
    """A file sent with an outbox message (email: a MIME part; Slack: its name only). Written by ``enqueue`` with
    its message; ``size`` and ``sha256`` are of ``data``, kept in the change log instead of the bytes."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attachments",
                                verbose_name=_("message"))
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    data = models.BinaryField(_("data"))

    log_exclude = ("created", "last_updated", "data")

    class Meta:
        ordering = ("message", "pk")
        verbose_name = _("outbox attachment")
        verbose_name_plural = _("outbox attachments")

    def __str__(self) -> str:
        return self.filename


class MessageTemplate(ChangeLoggedModel):
    """An edited text of a message kind, for one language and optionally one carrier (else: every carrier).

    ``body`` is the plain text; the HTML part is the same text, escaped, paragraphs kept (docs/notify.md)."""

    kind = models.CharField(_("kind"), max_length=64)  # a MessageKind (not as choices: other apps add kinds)
    carrier = models.ForeignKey("inventory.Carrier", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="message_templates", verbose_name=_("carrier"))
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default=Language.EN.value)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))

    class Meta:
        ordering = ("kind", "carrier__name", "language")
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = (
            models.UniqueConstraint(fields=("kind", "carrier", "language"), name="notify_template_unique"),
            models.UniqueConstraint(fields=("kind", "language"), condition=models.Q(carrier__isnull=True),
                                    name="notify_template_unique_default"),
        )

    def __str__(self) -> str:
        where = self.carrier.name if self.carrier_id else "*"
        return f"{self.kind} ({where}, {self.language})"

    def clean(self) -> None:
        from web.notify.templates import check_template

        if self.kind not in set(MessageKind):
            raise ValidationError({"kind": _("Unknown message kind %(kind)s") % {"kind": self.kind}})
        check_template(self.kind, subject=self.subject, body=self.body)
