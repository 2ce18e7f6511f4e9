"""``sync_roles`` runs the CURRENT role table inside every migration that calls it: a permission of a model that a
later migration creates is skipped there (that migration syncs again); a permission a model lacks is an error."""

from __future__ import annotations

import pytest
from django.apps import apps as current_apps
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from linewatch.choices import Role
from web.accounts import roles

pytestmark = pytest.mark.django_db


def test_sync_roles_at_the_first_migration_skips_permissions_of_models_created_later():
    """accounts.0001_roles ran before the token and login-log models existed (a fresh migrate used to fail there
    with "permission accounts.view_token does not exist" once the admin was given it)."""
    state = MigrationLoader(connection).project_state(("accounts", "0001_roles"))
    with pytest.raises(LookupError):
        state.apps.get_model("accounts", "token")
    roles.sync_roles(state.apps)
    admin = set(Group.objects.get(name=Role.ADMIN.value).permissions.values_list("content_type__app_label",
                                                                                "codename"))
    assert ("accounts", "view_token") not in admin and ("auth", "change_user") in admin


def test_sync_roles_with_every_model_gives_the_admin_tokens_and_the_login_log():
    roles.sync_roles(current_apps)
    admin = Group.objects.get(name=Role.ADMIN.value)
    have = set(admin.permissions.values_list("content_type__app_label", "codename"))
    assert {("accounts", "view_token"), ("accounts", "delete_token"), ("logins", "view_loginevent")} <= have


def test_sync_roles_names_a_permission_the_model_does_not_have(monkeypatch):
    table = {**roles.ROLE_PERMISSIONS, Role.ADMIN: roles.ROLE_PERMISSIONS[Role.ADMIN] | {("accounts", "approve_token")}}
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", table)
    with pytest.raises(LookupError, match=r"role admin: permission accounts.approve_token does not exist"):
        roles.sync_roles(current_apps)
