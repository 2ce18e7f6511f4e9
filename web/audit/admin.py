"""The change log in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from web.audit.models import ObjectChange


@admin.register(ObjectChange)
class ObjectChangeAdmin(admin.ModelAdmin):
    list_display = ("time", "user_name", "remote_addr", "action", "changed_object_type", "object_repr")
    list_filter = ("action", "changed_object_type")
    search_fields = ("object_repr", "user_name", "request_id")
    readonly_fields = tuple(f.name for f in ObjectChange._meta.fields)
    actions = None

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
