"""Write an :class:`ObjectChange` for every save and delete of a logged model (NetBox's signals): every
:class:`ChangeLoggedModel`, and Django's users and groups (``AUTH_SPECS``), role memberships and group
permissions included.

A snapshot is taken before the save (from the database, so it is what was stored, not what the form holds).
A change of a secret shows as masked → masked, the changed secret itself is never logged. ``queryset.update()``
and ``bulk_create`` send no signals: code that uses them must log explicitly (docs/web.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from linewatch.choices import ChangeAction
from web.audit.context import current
from web.audit.models import MASK, LogSpec, ObjectChange, diff, log_spec, secret_values, snapshot


@receiver(pre_save)
def _snapshot(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    spec = log_spec(sender)
    if spec is None or raw:
        return
    instance._audit_before = None
    instance._audit_secrets_before = {}
    if instance.pk is not None:
        old = sender._base_manager.filter(pk=instance.pk).first()  # type: ignore[attr-defined]
        if old is not None:
            instance._audit_before = snapshot(old, spec)
            instance._audit_secrets_before = secret_values(old, spec)


def _write(instance: Model, action: ChangeAction, before: dict[str, Any] | None,
           after: dict[str, Any] | None, *, spec: LogSpec, extra: dict[str, list[Any]] | None = None) -> None:
    ctx = current()
    changes = diff(before, after) | (extra or {})
    if action is ChangeAction.UPDATE:
        # A changed secret: both sides are masked, so mark it explicitly (the values stay out of the log).
        for name, old in getattr(instance, "_audit_secrets_before", {}).items():
            new = getattr(instance, name)
            if old != new:
                changes[instance._meta.get_field(name).attname] = [MASK if old else None, MASK if new else None]
        if not changes:
            return
    ObjectChange.objects.create(
        user=ctx.user, user_name=ctx.user_name[:150], request_id=ctx.request_id, remote_addr=ctx.remote_addr,
        action=action, changed_object_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        changed_object_id=instance.pk, object_repr=str(instance)[:200],
        prechange_data=before, postchange_data=after, diff=changes,
    )


@receiver(post_save)
def _log_save(sender: type, instance: Any, created: bool, raw: bool = False,
              update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    spec = log_spec(sender)
    if spec is None or raw:
        return
    if update_fields is not None and set(update_fields) <= set(spec.exclude):
        return  # e.g. the login's save(update_fields=["last_login"])
    before = None if created else getattr(instance, "_audit_before", None)
    after = snapshot(instance, spec)
    _write(instance, ChangeAction.CREATE if created else ChangeAction.UPDATE, before, after, spec=spec)
    instance._audit_secrets_before = {}


@receiver(post_delete)
def _log_delete(sender: type, instance: Any, **kwargs: Any) -> None:
    spec = log_spec(sender)
    if spec is not None:
        _write(instance, ChangeAction.DELETE, snapshot(instance, spec), None, spec=spec)


# -- many-to-many: a user's roles, a role's permissions ----------------------------------------------------------

_M2M = {User.groups.through: ("groups", User, Group), Group.permissions.through: ("permissions", Group, None)}


def _names(instance: Model, field: str) -> list[str]:
    related = getattr(instance, field).all()
    return sorted(f"{p.content_type.app_label}.{p.codename}" if field == "permissions" else str(p)
                  for p in (related.select_related("content_type") if field == "permissions" else related))


@receiver(m2m_changed)
def _log_m2m(sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None,
             **kwargs: Any) -> None:
    if sender not in _M2M:
        return
    field, owner, _ = _M2M[sender]
    if reverse:
        # group.user_set.add(user): the change belongs to each user. A reverse clear names no users: take them
        # before it happens.
        if action == "pre_clear":
            instance._audit_m2m_users = list(instance.user_set.all())
        if action.startswith("pre_"):
            return
        users = (list(owner._default_manager.filter(pk__in=pk_set)) if pk_set
                 else getattr(instance, "_audit_m2m_users", []))
        for user in users:
            after = _names(user, field)
            name = str(instance)
            before = sorted(set(after) - {name}) if action == "post_add" else sorted({*after, name})
            _record_m2m(user, field, before, after)
        return
    if action.startswith("pre_"):
        instance._audit_m2m_before = _names(instance, field)
        return
    _record_m2m(instance, field, getattr(instance, "_audit_m2m_before", []), _names(instance, field))


def _record_m2m(instance: Model, field: str, before: list[str], after: list[str]) -> None:
    if before == after:
        return
    spec = log_spec(type(instance))
    assert spec is not None
    state = snapshot(instance, spec)
    _write(instance, ChangeAction.UPDATE, state | {field: before}, state | {field: after}, spec=spec)
