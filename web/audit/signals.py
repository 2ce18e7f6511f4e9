"""Write an :class:`ObjectChange` for every save and delete of a :class:`ChangeLoggedModel` (NetBox's signals).

A snapshot is taken before the save (from the database, so it is what was stored, not what the form holds).
A change of a secret shows as masked → masked, the changed secret itself is never logged. ``queryset.update()``
and ``bulk_create`` send no signals: code that uses them must log explicitly (docs/web.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from linewatch.choices import ChangeAction
from web.audit.context import current
from web.audit.models import MASK, ChangeLoggedModel, ObjectChange, diff


def _logged(sender: type) -> bool:
    return isinstance(sender, type) and issubclass(sender, ChangeLoggedModel)


@receiver(pre_save)
def _snapshot(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not _logged(sender) or raw:
        return
    instance._audit_before = None
    instance._audit_secrets_before = {}
    if instance.pk is not None:
        old = sender._base_manager.filter(pk=instance.pk).first()
        if old is not None:
            instance._audit_before = old.audit_data()
            instance._audit_secrets_before = old.secret_values()


def _write(instance: Any, action: ChangeAction, before: dict[str, Any] | None,
           after: dict[str, Any] | None) -> None:
    ctx = current()
    changes = diff(before, after)
    if action is ChangeAction.UPDATE:
        # A changed secret: both sides are masked, so mark it explicitly (the values stay out of the log).
        for name, old in getattr(instance, "_audit_secrets_before", {}).items():
            if old != getattr(instance, name):
                attname = instance._meta.get_field(name).attname
                changes[attname] = [MASK if old else None, MASK if getattr(instance, name) else None]
        if not changes:
            return
    ObjectChange.objects.create(
        user=ctx.user, user_name=ctx.user_name[:150], request_id=ctx.request_id, remote_addr=ctx.remote_addr,
        action=action, changed_object_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        changed_object_id=instance.pk, object_repr=str(instance)[:200],
        prechange_data=before, postchange_data=after, diff=changes,
    )


@receiver(post_save)
def _log_save(sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not _logged(sender) or raw:
        return
    before = None if created else getattr(instance, "_audit_before", None)
    _write(instance, ChangeAction.CREATE if created else ChangeAction.UPDATE, before, instance.audit_data())


@receiver(post_delete)
def _log_delete(sender: type, instance: Any, **kwargs: Any) -> None:
    if _logged(sender):
        _write(instance, ChangeAction.DELETE, instance.audit_data(), None)
