"""web.ldap and the login settings in linewatch.yaml: off by default, errors name the key, secrets masked."""

from __future__ import annotations

import pytest

from linewatch.errors import ConfigError
from linewatch.settings import load_settings
from web.accounts.directory import BACKEND, LOCAL_BACKEND, authentication_backends, django_settings

LDAP_YAML = """\
web:
  ldap:
    server_uri: ldap://ldap.example.com
    bind_dn: cn=reader,dc=example,dc=com
    bind_password: {password}
    user_search_base: ou=people,dc=example,dc=com
    group_search_base: ou=groups,dc=example,dc=com
    group_type: active_directory
    roles:
      "CN=NOC, OU=Groups,DC=example,DC=com": noc
"""


def _load(tmp_path, text: str):
    path = tmp_path / "linewatch.yaml"
    path.write_text(text)
    return load_settings(path)


def test_ldap_is_off_by_default(tmp_path):
    web = _load(tmp_path, "state_dir: var\n").web
    assert web.ldap is None
    assert BACKEND not in authentication_backends(web.ldap) and LOCAL_BACKEND in authentication_backends(web.ldap)
    assert django_settings(web.ldap) == {"LINEWATCH_LDAP_ROLES": {}}


def test_ldap_settings_reach_django_and_roles_match_any_dn_spelling(tmp_path):
    cfg = _load(tmp_path, LDAP_YAML.format(password="bind-secret-77")).web.ldap
    django = django_settings(cfg)
    assert django["AUTH_LDAP_SERVER_URI"] == "ldap://ldap.example.com"
    assert django["AUTH_LDAP_BIND_PASSWORD"] == "bind-secret-77"
    assert django["LINEWATCH_LDAP_ROLES"] == {"cn=noc,ou=groups,dc=example,dc=com": "noc"}
    assert type(django["AUTH_LDAP_GROUP_TYPE"]).__name__ == "NestedActiveDirectoryGroupType"
    assert authentication_backends(cfg).index(BACKEND) < authentication_backends(cfg).index(LOCAL_BACKEND)


def test_ldap_bind_password_is_masked_in_the_printed_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LW_TEST_LDAP_PW", "bind-secret-from-env-88")
    shown = str(_load(tmp_path, LDAP_YAML.format(password="${LW_TEST_LDAP_PW}")).redacted())
    assert "bind-secret-from-env-88" not in shown and "ldap.example.com" in shown


BAD = [
    pytest.param("server_uri: ldap.example.com", "server_uri", id="uri-without-scheme"),
    pytest.param("user_search_filter: (uid=alice)", "user_search_filter", id="filter-without-user"),
    pytest.param("group_type: posixGroup", "group_type", id="unknown-group-type"),
    pytest.param("roles: {'cn=x,dc=example,dc=com': boss}", "roles", id="unknown-role"),
    pytest.param("bind_passwrd: x", "bind_passwrd", id="typo"),
]


@pytest.mark.parametrize(("line", "field"), BAD)
def test_bad_ldap_setting_names_file_and_field(tmp_path, line, field):
    key = line.split(":")[0]
    lines = [raw for raw in LDAP_YAML.format(password="pw-123456789").splitlines()
             if not raw.strip().startswith(key + ":") and not (key == "roles" and raw.startswith("      "))]
    text = "\n".join(lines) + f"\n    {line}\n"
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert "linewatch.yaml" in message and field in message and "pw-123456789" not in message


@pytest.mark.parametrize(("line", "field"), [
    pytest.param("login_failure_limit: 0", "login_failure_limit", id="limit-zero"),
    pytest.param("session_idle_s: 5", "session_idle_s", id="idle-too-short"),
])
def test_bad_login_setting_names_the_field(tmp_path, line, field):
    with pytest.raises(ConfigError, match=field):
        _load(tmp_path, f"web:\n  {line}\n")
