"""Login events, append-only like the change log (:class:`web.audit.models.ObjectChange`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linewatch.choices import LoginEventKind
from web.audit.models import AuditRowImmutable
from web.labels import choices_of


class LoginEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditRowImmutable("login log rows cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditRowImmutable("login log rows cannot be deleted")


class LoginEvent(models.Model):
    """Who logged in or out, failed or was locked out, from where; the user name as typed is kept (a failed
    login may name no user), the password never."""

    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("event"), max_length=16, choices=choices_of(LoginEventKind))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.DO_NOTHING,
                             db_constraint=False, null=True, blank=True, related_name="+")
    user_name = models.CharField(_("user name"), max_length=150)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    request_id = models.UUIDField(_("request id"), null=True, blank=True)
    backend = models.CharField(_("backend"), max_length=16, blank=True,
                               help_text=_("ldap or local, for logins"))

    objects = LoginEventQuerySet.as_manager()

    class Meta:
        ordering = ("-time", "-pk")
        verbose_name = _("login event")
        verbose_name_plural = _("login events")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.user_name} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditRowImmutable("login log rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditRowImmutable("login log rows cannot be deleted")
