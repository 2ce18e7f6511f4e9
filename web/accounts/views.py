"""API tokens in the management application: every user's tokens listed and revoked by those who may
(``accounts.view_token``, ``accounts.delete_token``: the admin role), through the one permission check.

Only the key's first characters are shown: the key itself was shown once, when it was made
(``linewatch web manage create_api_token``). Revoking deletes the token, change-logged like any deletion.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.views.generic import DeleteView, ListView

from web.accounts.permissions import ModelPermissionRequiredMixin, is_permitted
from web.accounts.tokens import Token


class TokenListView(ModelPermissionRequiredMixin, ListView):
    model = Token
    permission_action = "view"
    template_name = "accounts/token_list.html"
    context_object_name = "tokens"

    def get_queryset(self) -> QuerySet[Token]:
        return super().get_queryset().select_related("user").order_by("user__username", "name", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {
            "may_revoke": is_permitted(self.request.user, Token, "delete")}


class TokenRevokeView(ModelPermissionRequiredMixin, DeleteView):
    """GET: the confirmation page; POST: the token is deleted (one transaction, change-logged)."""

    model = Token
    permission_action = "delete"
    template_name = "accounts/token_confirm_revoke.html"
    context_object_name = "token"
    success_url = reverse_lazy("accounts:token_list")

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            self.object.delete()
        return HttpResponseRedirect(self.get_success_url())
