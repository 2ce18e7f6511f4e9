"""The login log in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from web.accounts.logins.models import LoginEvent


@admin.register(LoginEvent)
class LoginEventAdmin(admin.ModelAdmin):
    list_display = ("time", "kind", "user_name", "remote_addr", "backend")
    list_filter = ("kind", "backend")
    search_fields = ("user_name", "remote_addr", "request_id")
    readonly_fields = tuple(f.name for f in LoginEvent._meta.fields)
    actions = None

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
