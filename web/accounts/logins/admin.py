"""The login log in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from django.contrib import admin

from web.accounts.logins.models import LoginEvent
from web.audit.admin import AppendOnlyAdmin


@admin.register(LoginEvent)
class LoginEventAdmin(AppendOnlyAdmin):
    list_display = ("time", "kind", "user_name", "remote_addr", "backend")
    list_filter = ("kind", "backend")
    search_fields = ("user_name", "remote_addr", "request_id")
