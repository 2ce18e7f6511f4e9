"""API tokens in the app: the admin lists every user's tokens and revokes them, on the page and through the API;
the other roles cannot; a revoked token stops working at once; the key's hash never shows."""

from __future__ import annotations

import pytest
from django.test import Client

from linewatch.choices import TokenScope
from web.accounts.tokens import Token
from web.audit.models import ObjectChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(user_with_role):
    owner = user_with_role("engineer")
    token, key = Token.create(user=owner, name="collector", scope=TokenScope.READ)
    other, _ = Token.create(user=user_with_role("finance"), name="invoice import", scope=TokenScope.WRITE)
    return {"token": token, "key": key, "other": other, "owner": owner}


def _as(user_with_role, role: str) -> Client:
    client = Client()
    client.force_login(user_with_role(role))
    return client


def test_admin_sees_every_users_tokens_without_their_hash(user_with_role, tokens):
    response = _as(user_with_role, "admin").get("/accounts/tokens/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "collector" in html and "invoice import" in html and tokens["token"].key_prefix in html
    assert tokens["token"].key_hash not in html and tokens["key"] not in html
    api = _as(user_with_role, "admin").get("/api/accounts/tokens/").json()
    assert {(t["user"], t["name"]) for t in api["results"]} == {
        (tokens["owner"].username, "collector"), (tokens["other"].user.username, "invoice import")}
    assert tokens["token"].key_hash not in str(api)


def test_admin_revokes_a_token_on_the_page_and_it_stops_working(user_with_role, tokens):
    admin = _as(user_with_role, "admin")
    inventory = "/api/inventory/lines/"
    bearer = {"authorization": f"Bearer {tokens['key']}"}
    assert Client().get(inventory, headers=bearer).status_code == 200
    confirm = admin.get(f"/accounts/tokens/{tokens['token'].pk}/revoke/")
    assert confirm.status_code == 200 and b"collector" in confirm.content
    assert Token.objects.filter(pk=tokens["token"].pk).exists()  # GET only asks
    response = admin.post(f"/accounts/tokens/{tokens['token'].pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"
    assert not Token.objects.filter(pk=tokens["token"].pk).exists()
    assert Client().get(inventory, headers=bearer).status_code == 401
    row = ObjectChange.objects.filter(changed_object_type__model="token", action="delete").get()
    assert row.prechange_data["key_hash"] == "********"


def test_admin_revokes_a_token_through_the_api(user_with_role, tokens):
    response = _as(user_with_role, "admin").delete(f"/api/accounts/tokens/{tokens['other'].pk}/")
    assert response.status_code == 204
    assert not Token.objects.filter(pk=tokens["other"].pk).exists()


def test_a_read_token_of_an_admin_cannot_revoke_tokens(user_with_role, tokens):
    admin = user_with_role("admin")
    _, key = Token.create(user=admin, name="read-only", scope=TokenScope.READ)
    response = Client().delete(f"/api/accounts/tokens/{tokens['other'].pk}/", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert Token.objects.filter(pk=tokens["other"].pk).exists()


@pytest.mark.parametrize("role", ["viewer", "noc", "engineer", "finance"])
def test_other_roles_cannot_list_or_revoke_tokens_not_even_their_own(user_with_role, tokens, role):
    client = _as(user_with_role, role)
    pk = tokens["token"].pk
    assert client.get("/accounts/tokens/").status_code == 403
    assert client.get(f"/accounts/tokens/{pk}/revoke/").status_code == 403
    assert client.post(f"/accounts/tokens/{pk}/revoke/").status_code == 403
    assert client.delete(f"/api/accounts/tokens/{pk}/").status_code == 403
    assert Token.objects.filter(pk=pk).exists()


def test_tokens_cannot_be_made_or_changed_through_the_api(user_with_role, tokens):
    """Tokens are made by create_api_token only (the key is shown once): no POST, PUT or PATCH."""
    admin = _as(user_with_role, "admin")
    count = Token.objects.count()
    # 403: the admin holds no add/change permission on tokens (checked before the method: 405 would be fine too).
    assert admin.post("/api/accounts/tokens/", {"name": "x"}, content_type="application/json").status_code in (403, 405)
    url = f"/api/accounts/tokens/{tokens['token'].pk}/"
    assert admin.patch(url, {"scope": "write"}, content_type="application/json").status_code in (403, 405)
    assert Token.objects.get(pk=tokens["token"].pk).scope == "read" and Token.objects.count() == count


def test_token_page_in_korean(user_with_role, tokens):
    html = _as(user_with_role, "admin").get("/accounts/tokens/", headers={"accept-language": "ko"}).content.decode()
    assert "API 토큰" in html and "폐기" in html and "Revoke" not in html


@pytest.mark.parametrize(("role", "shown"), [("admin", True), ("engineer", False), ("viewer", False)])
def test_nav_links_the_token_list_only_for_those_who_may_see_it(user_with_role, tokens, role, shown):
    html = _as(user_with_role, role).get("/inventory/lines/").content
    assert (b'href="/accounts/tokens/"' in html) is shown
