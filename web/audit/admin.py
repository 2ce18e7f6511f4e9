"""The change log in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from web.audit.models import ObjectChange


class AppendOnlyAdmin(admin.ModelAdmin):
    """An append-only log in the admin (the change log, the login log): every field shown, nothing added, changed
    or deleted there, by anyone."""

    actions = None

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return tuple(f.name for f in self.model._meta.fields)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ObjectChange)
class ObjectChangeAdmin(AppendOnlyAdmin):
    list_display = ("time", "user_name", "remote_addr", "action", "changed_object_type", "object_repr")
    list_filter = ("action", "changed_object_type")
    search_fields = ("object_repr", "user_name", "request_id")
