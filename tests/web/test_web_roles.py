"""Roles are groups created by a migration, each with its model permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from linewatch.choices import Role
from web.accounts.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_role_group_holds_exactly_its_permissions(role):
    group = Group.objects.get(name=role.value)
    have = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert have == ROLE_PERMISSIONS[role]


ACCESS = [
    ("viewer", "inventory.view_line", True), ("viewer", "inventory.change_line", False),
    ("viewer", "audit.view_objectchange", True), ("viewer", "inventory.add_contract", False),
    ("noc", "inventory.change_line", True), ("noc", "inventory.add_line", False),
    ("engineer", "inventory.add_line", True), ("engineer", "inventory.change_device", True),
    ("engineer", "inventory.change_contract", False),
    ("finance", "inventory.change_contract", True), ("finance", "inventory.add_discount", True),
    ("finance", "inventory.change_device", False),
    ("admin", "inventory.delete_line", True), ("admin", "auth.change_user", True),
    ("admin", "audit.change_objectchange", False), ("admin", "audit.delete_objectchange", False),
]


@pytest.mark.parametrize(("role", "perm", "allowed"), ACCESS, ids=[f"{r}-{p}" for r, p, _ in ACCESS])
def test_role_permissions(user_with_role, role, perm, allowed):
    assert user_with_role(role).has_perm(perm) is allowed


def test_passwords_are_hashed_with_argon2(django_user_model):
    user = django_user_model.objects.create_user("kim", password="correct horse battery")
    assert user.password.startswith("argon2")


# -- role x endpoint: each page and API endpoint answers each role as the role table says ------------------------
# "anonymous": no login; None: logged in, in no group. Pages send the anonymous to the login page (302), the API
# answers 401. /-/health is open to everyone (the container health check).
ROLES = ["anonymous", None, "viewer", "noc", "engineer", "finance", "admin"]
_ADMIN_PAGE = {"anonymous": 302, None: 403, "viewer": 403, "noc": 403, "engineer": 403, "finance": 403, "admin": 200}
_ADMIN_API = _ADMIN_PAGE | {"anonymous": 401}
ENDPOINTS = {
    "/accounts/tokens/": _ADMIN_PAGE,
    "/accounts/tokens/{token}/revoke/": _ADMIN_PAGE,
    "/api/accounts/tokens/": _ADMIN_API,
    "/api/accounts/tokens/{token}/": _ADMIN_API,
    "/audit/logins/": _ADMIN_PAGE,
    "/audit/logins/export.csv": _ADMIN_PAGE,
    "/api/audit/logins/": _ADMIN_API,
    "/-/health": dict.fromkeys(ROLES, 200),
}
ENDPOINT_CASES = [(role, url) for url in ENDPOINTS for role in ROLES]


@pytest.mark.parametrize(("role", "url"), ENDPOINT_CASES, ids=[f"{r or 'none'}-{u}" for r, u in ENDPOINT_CASES])
def test_role_endpoint_access(client, user_with_role, role, url):
    from web.accounts.tokens import Token

    token, _ = Token.create(user=user_with_role("engineer"), name="table")
    if role != "anonymous":
        client.force_login(user_with_role(role))
    assert client.get(url.format(token=token.pk)).status_code == ENDPOINTS[url][role]


# -- role x endpoint: the inventory's pages (lists, detail pages, add and edit forms) ---------------------------
def _page_for(*roles: str) -> dict[str | None, int]:
    return {"anonymous": 302, None: 403} | {r: 200 if r in roles else 403 for r in ROLES[2:]}


_EVERY_ROLE = _page_for("viewer", "noc", "engineer", "finance", "admin")
_ENGINEER = _page_for("engineer", "admin")
_FINANCE = _page_for("finance", "admin")
INVENTORY_PAGES = {
    "/inventory/lines/": _EVERY_ROLE, "/inventory/lines/{line}/": _EVERY_ROLE,
    "/inventory/lines/add/": _ENGINEER, "/inventory/lines/{line}/edit/": _page_for("noc", "engineer", "admin"),
    "/inventory/carriers/": _EVERY_ROLE, "/inventory/carriers/{carrier}/": _EVERY_ROLE,
    "/inventory/carriers/add/": _FINANCE, "/inventory/carriers/{carrier}/edit/": _FINANCE,
    "/inventory/sites/": _EVERY_ROLE, "/inventory/sites/{site}/": _EVERY_ROLE,
    "/inventory/sites/add/": _ENGINEER, "/inventory/sites/{site}/edit/": _ENGINEER,
    "/inventory/devices/": _EVERY_ROLE, "/inventory/devices/{device}/": _EVERY_ROLE,
    "/inventory/devices/add/": _ENGINEER, "/inventory/devices/{device}/edit/": _ENGINEER,
    "/inventory/contracts/{contract}/": _EVERY_ROLE,
    "/inventory/contracts/add/": _FINANCE, "/inventory/contracts/{contract}/edit/": _FINANCE,
}
INVENTORY_CASES = [(role, url) for url in INVENTORY_PAGES for role in ROLES]


@pytest.mark.parametrize(("role", "url"), INVENTORY_CASES, ids=[f"{r or 'none'}-{u}" for r, u in INVENTORY_CASES])
def test_role_inventory_page_access(client, user_with_role, make_inventory, role, url):
    from decimal import Decimal

    from web.inventory.models import Contract

    inv = make_inventory(1)
    contract = Contract.objects.create(line=inv["lines"][0], mrc=Decimal(10))
    if role != "anonymous":
        client.force_login(user_with_role(role))
    page = url.format(line=inv["lines"][0].pk, carrier=inv["carriers"][0].pk, site=inv["sites"][0].pk,
                      device=inv["device"].pk, contract=contract.pk)
    assert client.get(page).status_code == INVENTORY_PAGES[url][role]
