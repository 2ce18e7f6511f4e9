"""The change log: one append-only row per create, update and delete of a change-logged model.

Rows are written by the signals in :mod:`web.audit.signals` for every subclass of :class:`ChangeLoggedModel`.
Nobody edits or deletes them: the model and its queryset refuse, the admin offers no such action, and database
triggers (migration 0002) refuse raw SQL as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from linewatch.choices import ChangeAction
from web.labels import choices_of

MASK = "********"


class AuditRowImmutable(Exception):
    """An attempt to change or delete a change-log row."""


class ChangeLoggedModel(models.Model):
    """Base of every model whose changes are logged (NetBox's ``ChangeLoggedModel``).

    ``secret_fields`` are masked in the logged data; their change is still recorded (as masked → masked).
    """

    created = models.DateTimeField(_("created"), auto_now_add=True, null=True)
    last_updated = models.DateTimeField(_("last updated"), auto_now=True, null=True)

    secret_fields: ClassVar[tuple[str, ...]] = ()
    log_exclude: ClassVar[tuple[str, ...]] = ("created", "last_updated")

    class Meta:
        abstract = True

    def audit_data(self) -> dict[str, Any]:
        """The logged snapshot: every concrete field by attribute name, secrets masked, JSON-ready."""
        return snapshot(self, log_spec(type(self)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class LogSpec:
    """How a model's rows are logged: fields masked, fields left out."""

    secret_fields: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


# Django's own models whose changes are logged too: who may log in, and with which role.
# ``last_login`` is left out: a login is not a change of the user (and would log a row per login).
AUTH_SPECS = {
    ("auth", "user"): LogSpec(secret_fields=("password",), exclude=("last_login",)),
    ("auth", "group"): LogSpec(),
}


def log_spec(model: type) -> LogSpec | None:
    """The logging rules of ``model``, or None when its changes are not logged."""
    if isinstance(model, type) and issubclass(model, ChangeLoggedModel):
        return LogSpec(secret_fields=model.secret_fields, exclude=model.log_exclude)
    meta = getattr(model, "_meta", None)
    if meta is None or getattr(meta, "auto_created", False) or model.__module__ == "__fake__":
        return None  # through tables, and migrations' historical models: migrations are versioned in git
    return AUTH_SPECS.get((meta.app_label, meta.model_name))


def snapshot(instance: models.Model, spec: LogSpec) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in instance._meta.concrete_fields:
        if f.name in spec.exclude:
            continue
        value = getattr(instance, f.attname)
        if f.name in spec.secret_fields:
            value = MASK if value else None
        data[f.attname] = value
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def secret_values(instance: models.Model, spec: LogSpec) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in spec.secret_fields}


class ObjectChangeQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditRowImmutable("change-log rows cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditRowImmutable("change-log rows cannot be deleted")


class ObjectChange(models.Model):
    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # No database constraint and no cascade: deleting a user must not touch (or be blocked by) their rows.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.DO_NOTHING,
                             db_constraint=False, null=True, blank=True, related_name="+")
    user_name = models.CharField(_("user name"), max_length=150, editable=False)
    request_id = models.UUIDField(_("request id"), editable=False, db_index=True)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=choices_of(ChangeAction))
    changed_object_type = models.ForeignKey(ContentType, verbose_name=_("object type"),
                                            on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    changed_object_id = models.PositiveBigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200, editable=False)
    prechange_data = models.JSONField(_("before"), null=True, blank=True, editable=False)
    postchange_data = models.JSONField(_("after"), null=True, blank=True, editable=False)
    diff = models.JSONField(_("changes"), default=dict, editable=False,
                            help_text=_("field: [before, after] for every field that changed"))

    objects = ObjectChangeQuerySet.as_manager()

    class Meta:
        ordering = ("-time", "-pk")
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.user_name} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditRowImmutable("change-log rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditRowImmutable("change-log rows cannot be deleted")


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field whose value differs (all fields on create and delete)."""
    before, after = before or {}, after or {}
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}
