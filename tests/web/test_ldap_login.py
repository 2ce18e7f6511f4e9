"""LDAP login against the real session slapd (``slapd_server``): password through the login page, roles from
directory groups (updated at the next login), wrong password refused, directory down → local accounts work and
the error is logged without the bind password."""

from __future__ import annotations

import logging
import uuid

import ldap
import pytest
from django.test import Client

from linewatch.choices import LoginEventKind, Role
from linewatch.servers.ports import free_tcp_port
from linewatch.servers.slapd import LdapGroup, LdapUser
from linewatch.settings import LdapSettings
from web.accounts.directory import authentication_backends, django_settings
from web.accounts.logins.models import LoginEvent

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DIRECTORY_ROLES = {"noc": Role.NOC, "finance": Role.FINANCE, "engineering": Role.ENGINEER, "lw-admins": Role.ADMIN}


def _use(settings, cfg: LdapSettings) -> None:
    settings.AUTHENTICATION_BACKENDS = authentication_backends(cfg)
    for key, value in django_settings(cfg).items():
        setattr(settings, key, value)


def _cfg(slapd, *, server_uri: str | None = None, roles: dict | None = None, bind_password: str | None = None,
         timeout_s: float = 10) -> LdapSettings:
    return LdapSettings(
        server_uri=server_uri or slapd.url, bind_dn=slapd.admin_dn, bind_password=bind_password or slapd.admin_password,
        user_search_base=slapd.people_dn, group_search_base=slapd.groups_dn, timeout_s=timeout_s,
        roles=roles if roles is not None else {slapd.group_dn(g): r for g, r in DIRECTORY_ROLES.items()})


@pytest.fixture
def directory(settings, slapd_server):
    _use(settings, _cfg(slapd_server))
    return slapd_server


def _login(client: Client, name: str, password: str):
    return client.post("/login/", {"username": name, "password": password})


def _roles(django_user_model, name: str) -> set[str]:
    return set(django_user_model.objects.get(username=name).groups.values_list("name", flat=True))


ROLE_CASES = [
    pytest.param("alice", {"noc"}, id="alice-noc"),
    pytest.param("bob", {"finance"}, id="bob-finance"),
    pytest.param("carol", {"noc", "engineer"}, id="carol-two-groups"),
    pytest.param("dave", {"admin"}, id="dave-admin"),
    pytest.param("erin", set(), id="erin-no-group"),
]


@pytest.mark.parametrize(("name", "roles"), ROLE_CASES)
def test_ldap_password_logs_in_with_roles_from_groups(client: Client, directory, django_user_model, name, roles):
    response = _login(client, name, directory.users[name].password)
    assert response.status_code == 302, response.content[:500]
    assert _roles(django_user_model, name) == roles
    user = django_user_model.objects.get(username=name)
    assert user.email == f"{name}@linewatch.test" and not user.has_usable_password()
    event = LoginEvent.objects.get(kind=LoginEventKind.LOGIN)
    assert event.backend == "ldap" and event.user == user


def test_alice_sees_lines_after_ldap_login(client: Client, directory):
    _login(client, "alice", directory.users["alice"].password)
    assert client.get("/inventory/lines/").status_code == 200


def test_wrong_ldap_password_is_refused(client: Client, directory):
    response = _login(client, "alice", "not-alices-password")
    assert response.status_code == 200 and b"did not match" in response.content
    assert "_auth_user_id" not in client.session
    assert LoginEvent.objects.get().kind == LoginEventKind.LOGIN_FAILED


def _memberships(slapd) -> dict[str, set[str]]:
    """Every directory group and the uids of its members (as the session's slapd holds them now)."""
    conn = ldap.initialize(slapd.url)
    conn.simple_bind_s(slapd.admin_dn, slapd.admin_password)
    try:
        found = conn.search_s(slapd.groups_dn, ldap.SCOPE_ONELEVEL, "(objectClass=groupOfNames)", ["cn", "member"])
    finally:
        conn.unbind_s()
    return {attrs["cn"][0].decode(): {m.decode().split(",")[0].split("=")[1] for m in attrs.get("member", [])}
            for _, attrs in found}


def test_roles_follow_ldap_group_change_at_next_login_using_entries_of_its_own(
        settings, slapd_server, django_user_model):
    """A user moved from one directory group to another has the new role (and not the old one) at the next
    login; a role given by hand to someone else is untouched. The test makes its own users and groups: it used to
    put the shared directory user ``erin`` ("in no group") into its groups, which later tests then saw."""
    shared_users = set(slapd_server.users)
    before = {cn: members & shared_users for cn, members in _memberships(slapd_server).items()}
    tag = uuid.uuid4().hex[:8]
    uid, other, old, new = f"frank-{tag}", f"grace-{tag}", f"billing-{tag}", f"ops-{tag}"
    slapd_server.add_users([LdapUser(uid, password="frank-pw-6"), LdapUser(other, password="grace-pw-7")])
    slapd_server.add_groups([LdapGroup(old, members=(uid,)), LdapGroup(new, members=(other,))])
    _use(settings, _cfg(slapd_server, roles={slapd_server.group_dn(old): Role.FINANCE,
                                             slapd_server.group_dn(new): Role.NOC}))
    assert _login(Client(), uid, "frank-pw-6").status_code == 302
    assert _roles(django_user_model, uid) == {"finance"}

    conn = ldap.initialize(slapd_server.url)
    conn.simple_bind_s(slapd_server.admin_dn, slapd_server.admin_password)
    try:
        conn.modify_s(slapd_server.group_dn(new), [(ldap.MOD_ADD, "member", [slapd_server.user_dn(uid).encode()])])
        conn.modify_s(slapd_server.group_dn(old), [(ldap.MOD_REPLACE, "member", [slapd_server.user_dn(other).encode()])])
    finally:
        conn.unbind_s()
    assert _login(Client(), uid, "frank-pw-6").status_code == 302
    assert _roles(django_user_model, uid) == {"noc"}
    after = {cn: members & shared_users for cn, members in _memberships(slapd_server).items()}
    assert {cn: m for cn, m in after.items() if m} == {cn: m for cn, m in before.items() if m}, \
        "the test changed the groups of the session directory's shared users"


def test_ldap_down_local_accounts_still_log_in_and_error_hides_bind_password(
        settings, slapd_server, django_user_model, caplog):
    bind_password = "down-bind-pw-" + uuid.uuid4().hex
    down = f"ldap://127.0.0.1:{free_tcp_port()}"  # nothing listens there
    _use(settings, _cfg(slapd_server, server_uri=down, bind_password=bind_password, timeout_s=3))
    django_user_model.objects.create_user("local-admin", password="correct horse battery")
    client = Client()
    with caplog.at_level(logging.WARNING):
        assert _login(client, "local-admin", "correct horse battery").status_code == 302
        directory_password = slapd_server.users["alice"].password
        assert _login(Client(), "alice", directory_password).status_code == 200  # LDAP users cannot, of course
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOGIN).get().backend == "local"
    ours = [r for r in caplog.records if r.name == "web.accounts.ldap"]
    assert ours and "Can't contact LDAP server" in ours[0].getMessage()
    assert bind_password not in caplog.text and directory_password not in caplog.text


def test_directory_entry_cannot_take_over_a_local_account(client: Client, directory, django_user_model):
    """A local account named like a directory user (here alice) accepts only its local password."""
    django_user_model.objects.create_superuser("alice", password="local-alice-password")
    assert _login(client, "alice", directory.users["alice"].password).status_code == 200
    assert "_auth_user_id" not in client.session
    assert _login(client, "alice", "local-alice-password").status_code == 302
    assert LoginEvent.objects.get(kind=LoginEventKind.LOGIN).backend == "local"
    assert _roles(django_user_model, "alice") == set()  # no role copied from the directory
