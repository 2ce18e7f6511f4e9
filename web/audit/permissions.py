"""Who may see which change-log rows: the one rule the audit pages (and, later, the API) use.

A row is visible to a user who holds ``audit.view_objectchange`` (every role has it, docs/web.md) **and** may
view the changed object's model: a viewer sees the history of lines, carriers and contracts, but rows about users
and groups (who holds which role, password changes) only reach those allowed to view users and groups (admin).
A user in no group sees nothing. Superusers see everything. The login log (:func:`may_view_logins`) is the admin's. Nobody may change or delete a row
(:mod:`web.audit.models`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from web.accounts.logins.models import LoginEvent
from web.accounts.permissions import is_permitted
from web.audit.models import ObjectChange

VIEW_LOG = "audit.view_objectchange"


def may_view_logins(user: Any) -> bool:
    """Whether ``user`` may read the login log (``logins.view_loginevent``: the admin role, superusers)."""
    return is_permitted(user, LoginEvent, "view")


def _view_permission(ct: ContentType) -> str:
    return f"{ct.app_label}.view_{ct.model}"


def may_view_log(user: Any) -> bool:
    """Whether ``user`` may open the change-log pages at all."""
    return bool(user.is_active and user.has_perm(VIEW_LOG))


def visible_types(user: Any) -> QuerySet[ContentType]:
    """The object types whose change-log rows ``user`` may see (none without :data:`VIEW_LOG`)."""
    if not may_view_log(user):
        return ContentType.objects.none()
    if user.is_superuser:
        return ContentType.objects.all()
    allowed = [ct.pk for ct in ContentType.objects.all() if user.has_perm(_view_permission(ct))]
    return ContentType.objects.filter(pk__in=allowed)


def may_view_history(user: Any, ct: ContentType) -> bool:
    """Whether ``user`` may see the history of objects of type ``ct``."""
    return may_view_log(user) and (user.is_superuser or user.has_perm(_view_permission(ct)))


def visible_changes(user: Any) -> QuerySet[ObjectChange]:
    """The change-log rows ``user`` may see."""
    if not may_view_log(user):
        return ObjectChange.objects.none()
    rows = ObjectChange.objects.all()
    if user.is_superuser:
        return rows
    return rows.filter(changed_object_type__in=list(visible_types(user).values_list("pk", flat=True)))
