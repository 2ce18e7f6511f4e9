"""Authentication backends: LDAP with roles from directory groups (see :mod:`web.accounts.directory`)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_auth_ldap.backend import LDAPBackend, ldap_error

from linewatch.choices import Role
from web.accounts.directory import normalize_dn

log = logging.getLogger("web.accounts.ldap")


class LdapBackend(LDAPBackend):
    """django-auth-ldap's backend; after each successful login the user's role groups are those of the
    directory groups mapped in ``web.ldap.roles`` (granted and revoked roles are change-logged). Groups that
    are not roles are left alone."""

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> Any:
        if _is_local_account(ldap_user._username):
            # A directory entry of the same name must not take over a local account (a local superuser
            # "admin" would otherwise accept the directory's "admin" password): local accounts log in locally.
            return None
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            sync_roles(user, ldap_user.group_dns)
        return user


def _is_local_account(username: str) -> bool:
    """A user with a usable password was made here (createsuperuser, the admin), not by an LDAP login."""
    model = get_user_model()
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    return user is not None and user.has_usable_password()


def roles_for(group_dns: set[str] | frozenset[str]) -> set[str]:
    """The role names mapped (``LINEWATCH_LDAP_ROLES``) from the directory groups a user is in."""
    mapping: dict[str, str] = settings.LINEWATCH_LDAP_ROLES
    return {mapping[dn] for dn in map(normalize_dn, group_dns) if dn in mapping}


def sync_roles(user: Any, group_dns: set[str] | frozenset[str]) -> None:
    wanted = roles_for(group_dns)
    role_names = {r.value for r in Role}
    current = set(user.groups.filter(name__in=role_names).values_list("name", flat=True))
    if wanted - current:
        user.groups.add(*Group.objects.filter(name__in=wanted - current))
    if current - wanted:
        user.groups.remove(*Group.objects.filter(name__in=current - wanted))


def _log_ldap_error(sender: Any, *, context: str, user: Any, request: Any, exception: Exception,
                    **kwargs: Any) -> None:
    # python-ldap's errors carry {'desc': ..., 'info': ...}: server answers, never the bind password.
    detail = exception.args[0] if exception.args and isinstance(exception.args[0], dict) else {}
    reason = "; ".join(str(detail[k]) for k in ("desc", "info") if detail.get(k)) or type(exception).__name__
    name = getattr(user, "username", None) if user is not None else None
    log.warning("LDAP error %s (user %r) on %s: %s; local accounts can still log in", context, name,
                settings.AUTH_LDAP_SERVER_URI, reason)


# django-auth-ldap logs the whole exception itself; this adds the server and the user name.
ldap_error.connect(_log_ldap_error, dispatch_uid="web.accounts.ldap_error")
