"""``/api/accounts/tokens/``: every user's API tokens, listed and revoked (DELETE) by those who may
(``accounts.view_token`` / ``accounts.delete_token``: the admin role), as on the token page. Tokens are made only by
``linewatch web manage create_api_token`` (the key is shown once); the key's hash is never returned."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import DefaultRouter

from web.accounts.permissions import restrict
from web.accounts.tokens import Token
from web.api.permissions import METHOD_ACTIONS, request_token


class TokenSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Token
        fields = ("id", "user", "name", "scope", "key_prefix", "created", "expires", "last_used")
        read_only_fields = fields


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                   viewsets.GenericViewSet):
    """Every user's tokens (GET), revoked by DELETE; the default permission class checks the method's action."""

    queryset = Token.objects.all()
    serializer_class = TokenSerializer

    def get_queryset(self) -> QuerySet[Token]:
        action = METHOD_ACTIONS.get(self.request.method or "", "view")
        return restrict(Token.objects.select_related("user").order_by("user__username", "name", "pk"),
                        self.request.user, action, token=request_token(self.request))

    def perform_destroy(self, instance: Any) -> None:
        with transaction.atomic():
            instance.delete()


router = DefaultRouter()
router.register("tokens", TokenViewSet)

app_name = "accounts-api"
urlpatterns = router.urls
