"""LDAP / Active Directory login (django-auth-ldap), configured from linewatch's ``web.ldap`` settings.

:func:`django_settings` turns :class:`linewatch.settings.LdapSettings` into django-auth-ldap's ``AUTH_LDAP_*``
settings (safe to call from a settings module: it imports only ``django_auth_ldap.config``). The backend is
:class:`web.accounts.backends.LdapBackend`: it authenticates by binding as the user, copies name and e-mail,
and sets the user's role groups from the directory groups mapped in ``web.ldap.roles`` at every login.
"""

from __future__ import annotations

from typing import Any

import ldap
from django_auth_ldap.config import (
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    NestedActiveDirectoryGroupType,
)

from linewatch.choices import LdapGroupType
from linewatch.settings import LdapSettings

BACKEND = "web.accounts.backends.LdapBackend"
LOCAL_BACKEND = "django.contrib.auth.backends.ModelBackend"
AXES_BACKEND = "axes.backends.AxesStandaloneBackend"

# What each group type searches for, and the django-auth-ldap class reading its membership.
_GROUP_TYPES: dict[LdapGroupType, tuple[str, Any]] = {
    LdapGroupType.GROUP_OF_NAMES: ("(objectClass=groupOfNames)", GroupOfNamesType),
    LdapGroupType.GROUP_OF_UNIQUE_NAMES: ("(objectClass=groupOfUniqueNames)", GroupOfUniqueNamesType),
    LdapGroupType.ACTIVE_DIRECTORY: ("(objectClass=group)", NestedActiveDirectoryGroupType),
}


def normalize_dn(dn: str) -> str:
    """A DN compared case- and space-insensitively (``CN=Noc, OU=Groups`` is ``cn=noc,ou=groups``)."""
    return ",".join(part.strip() for part in dn.lower().split(","))


def authentication_backends(cfg: LdapSettings | None) -> list[str]:
    """Axes first (refuses locked-out users before any password is checked), then LDAP when configured, then
    the local accounts: these still work while the directory is down."""
    return [AXES_BACKEND, *([BACKEND] if cfg is not None else []), LOCAL_BACKEND]


def django_settings(cfg: LdapSettings | None) -> dict[str, Any]:
    """django-auth-ldap's settings for ``cfg`` (empty when LDAP is off), plus ``LINEWATCH_LDAP_ROLES``
    (normalized group DN → role name) that the backend reads."""
    if cfg is None:
        return {"LINEWATCH_LDAP_ROLES": {}}
    group_filter, group_type = _GROUP_TYPES[cfg.group_type]
    options: dict[int, Any] = {ldap.OPT_NETWORK_TIMEOUT: cfg.timeout_s, ldap.OPT_TIMEOUT: cfg.timeout_s}
    if cfg.group_type is LdapGroupType.ACTIVE_DIRECTORY:
        options[ldap.OPT_REFERRALS] = 0  # AD returns referrals python-ldap would follow anonymously
    return {
        "AUTH_LDAP_SERVER_URI": cfg.server_uri,
        "AUTH_LDAP_START_TLS": cfg.start_tls,
        "AUTH_LDAP_BIND_DN": cfg.bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": cfg.bind_password.get_secret_value() if cfg.bind_password else "",
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(cfg.user_search_base, ldap.SCOPE_SUBTREE, cfg.user_search_filter),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(cfg.group_search_base, ldap.SCOPE_SUBTREE, group_filter),
        "AUTH_LDAP_GROUP_TYPE": group_type(),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "LINEWATCH_LDAP_ROLES": {normalize_dn(dn): role.value for dn, role in cfg.roles.items()},
    }
