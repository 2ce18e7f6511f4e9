"""Documents attached to a carrier, a contract or a line: contract PDFs, acceptance reports, quotes, invoices.

The parent is one of three explicit foreign keys, exactly one set (a database check constraint), rather than a
generic relation: the database keeps every document's parent real (no dangling ids), deleting the parent deletes
its documents (``CASCADE``, and their files after the commit: :mod:`web.inventory.documents`), and the lists
filter by plain indexed columns. The file itself is not in the database: it is kept under a random name in a
private folder (``web.documents.path``), served only by the permission-checked download views.
"""

from __future__ import annotations

import functools
import operator
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linewatch.choices import DocumentKind
from web.audit.models import ChangeLoggedModel
from web.inventory.models.carriers import Carrier
from web.inventory.models.contracts import Contract
from web.inventory.models.lines import Line
from web.labels import choices_of

PARENT_FIELDS = ("carrier", "contract", "line")


def _exactly_one_parent() -> Q:
    return functools.reduce(operator.or_, (Q(**{f"{other}__isnull": other != name for other in PARENT_FIELDS})
                                           for name in PARENT_FIELDS))


class Document(ChangeLoggedModel):
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.CASCADE, null=True,
                                blank=True, related_name="documents")
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE, null=True,
                                 blank=True, related_name="documents")
    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.CASCADE, null=True, blank=True,
                             related_name="documents")
    kind = models.CharField(_("kind"), max_length=32, choices=choices_of(DocumentKind),
                            default=DocumentKind.OTHER.value)
    title = models.CharField(_("title"), max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, editable=False,
                                 help_text=_("the uploaded file's name, sanitized"))
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    content_type = models.CharField(_("content type"), max_length=128, editable=False,
                                    help_text=_("recognised from the content"))
    storage_name = models.CharField(_("stored as"), max_length=64, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True,
                                    blank=True, on_delete=models.SET_NULL, editable=False, related_name="+")
    uploaded_by_name = models.CharField(_("uploaded by"), max_length=150, editable=False)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    parent_fields: ClassVar[tuple[str, ...]] = PARENT_FIELDS

    class Meta:
        ordering = ("-uploaded_at", "-pk")
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        # Adding and deleting follow the parent (web/accounts/permissions.py); "view" only lets the change log show
        # documents' history to every role, as the rest of the inventory's (web/audit/permissions.py).
        default_permissions = ("view",)
        constraints = (
            models.CheckConstraint(condition=_exactly_one_parent(), name="document_exactly_one_parent"),
            *(models.UniqueConstraint(fields=(name, "sha256"), name=f"document_unique_{name}_file")
              for name in PARENT_FIELDS),
        )

    def __str__(self) -> str:
        return self.title or self.file_name

    @property
    def parent(self) -> models.Model | None:
        for name in PARENT_FIELDS:
            if getattr(self, f"{name}_id") is not None:
                return getattr(self, name)
        return None

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("inventory:document_download", args=[self.pk])

    def clean(self) -> None:
        if sum(getattr(self, f"{name}_id") is not None for name in PARENT_FIELDS) != 1:
            raise ValidationError(_("attach the document to exactly one of: carrier, contract, line"))


def _remove_file_after_commit(sender: type, instance: Document, **kwargs: object) -> None:
    from web.inventory.documents import remove_file_after_commit

    remove_file_after_commit(sender, instance)


# Every deletion, a parent's cascade included, removes the file once the deletion is committed.
post_delete.connect(_remove_file_after_commit, sender=Document, dispatch_uid="inventory-document-file")
