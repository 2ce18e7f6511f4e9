"""Tokens in the admin: listed and revoked (deleted) there; created by ``create_api_token`` (shown once)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from web.accounts.tokens import Token


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "scope", "key_prefix", "expires", "last_used", "created")
    list_filter = ("scope",)
    search_fields = ("user__username", "name", "key_prefix")
    readonly_fields = ("user", "key_prefix", "last_used", "created")
    exclude = ("key_hash",)

    def has_add_permission(self, request: Any) -> bool:
        return False  # the key must be shown once: linewatch web manage create_api_token
