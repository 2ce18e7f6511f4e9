"""The change log: one row per create, update and delete, field by field, secrets masked; rows immutable."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction

from web.audit.context import change_context
from web.audit.models import MASK, AuditRowImmutable, ObjectChange
from web.inventory.models import Device, Line, Site

pytestmark = pytest.mark.django_db


def _changes(obj) -> list[ObjectChange]:
    ct = ContentType.objects.get_for_model(type(obj))
    return list(ObjectChange.objects.filter(changed_object_type=ct, changed_object_id=obj.pk).order_by("pk"))


def test_create_update_delete_each_write_a_row_with_the_diff(make_inventory):
    line = make_inventory(1)["lines"][0]
    with change_context(user_name="alice", remote_addr="192.0.2.7"):
        line.capacity_bps = 999_000_000
        line.description = "upgraded"
        line.save()
    pk = line.pk
    line.members.all().delete()
    line.delete()
    line.pk = pk
    create, update, delete = _changes(line)
    assert (create.action, update.action, delete.action) == ("create", "update", "delete")
    assert update.diff == {"capacity_bps": [10_000_000, 999_000_000], "description": ["", "upgraded"]}
    assert (update.user_name, update.remote_addr) == ("alice", "192.0.2.7")
    assert create.prechange_data is None and create.postchange_data["name"] == "LINE-000"
    assert delete.postchange_data is None and delete.prechange_data["capacity_bps"] == 999_000_000


def test_save_without_a_change_writes_no_update_row(make_inventory):
    line = make_inventory(1)["lines"][0]
    line.save()
    assert [c.action for c in _changes(line)] == ["create"]


def test_secrets_are_masked_in_the_change_log(make_inventory):
    device = make_inventory(0)["device"]
    device.snmp_community = "new-s3cret"
    device.save()
    create, update = _changes(device)
    for row in (create, update):
        text = str([row.prechange_data, row.postchange_data, row.diff])
        assert "s3cret" not in text
    assert create.postchange_data["snmp_community"] == MASK
    assert update.diff == {"snmp_community": [MASK, MASK]}


def test_request_writes_user_address_and_request_id(admin_client, admin_user):
    response = admin_client.post("/admin/inventory/site/add/", {"name": "Busan", "code": "PUS"},
                                 REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302, response.content[:2000]
    (row,) = _changes(Site.objects.get(name="Busan"))
    assert row.user_id == admin_user.pk and row.user_name == admin_user.username
    assert row.remote_addr == "198.51.100.4"
    assert str(row.request_id) == response["X-Request-ID"]


def test_deleting_a_user_keeps_their_rows(admin_user):
    with change_context(user=admin_user):
        site = Site.objects.create(name="Daegu")
    admin_user.delete()
    (row,) = _changes(site)
    assert row.user_name == "admin"


@pytest.fixture
def row(db) -> ObjectChange:
    site = Site.objects.create(name="Incheon")
    return _changes(site)[0]


IMMUTABLE_CASES = [
    pytest.param(lambda r: (setattr(r, "user_name", "mallory"), r.save()), id="model-save"),
    pytest.param(lambda r: r.delete(), id="model-delete"),
    pytest.param(lambda r: ObjectChange.objects.filter(pk=r.pk).update(user_name="mallory"), id="queryset-update"),
    pytest.param(lambda r: ObjectChange.objects.filter(pk=r.pk).delete(), id="queryset-delete"),
]


@pytest.mark.parametrize("attempt", IMMUTABLE_CASES)
def test_change_log_rows_cannot_be_edited_or_deleted(row, attempt):
    name = row.user_name
    with pytest.raises(AuditRowImmutable):
        attempt(row)
    assert ObjectChange.objects.get(pk=row.pk).user_name == name


@pytest.mark.parametrize("sql", [
    pytest.param("UPDATE audit_objectchange SET user_name = 'mallory' WHERE id = %s", id="raw-update"),
    pytest.param("DELETE FROM audit_objectchange WHERE id = %s", id="raw-delete"),
])
def test_database_refuses_raw_sql_on_change_log_rows(row, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, [row.pk])
    assert ObjectChange.objects.get(pk=row.pk).user_name == row.user_name


def test_admin_offers_no_way_to_change_or_delete_rows(row, admin_client):
    assert admin_client.post(f"/admin/audit/objectchange/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    page = admin_client.get(f"/admin/audit/objectchange/{row.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    admin_client.post(f"/admin/audit/objectchange/{row.pk}/change/", {"user_name": "mallory"})
    assert ObjectChange.objects.get(pk=row.pk).user_name == row.user_name
    assert admin_client.get("/admin/audit/objectchange/add/").status_code == 403


def test_every_inventory_model_is_change_logged():
    """New models get history without asking: every inventory model derives from ChangeLoggedModel."""
    from django.apps import apps

    from web.audit.models import ChangeLoggedModel

    models = apps.get_app_config("inventory").get_models()
    assert [m.__name__ for m in models if not issubclass(m, ChangeLoggedModel)] == []
    assert set(Device.secret_fields) == {"snmp_community", "auth_key", "priv_key"}
    assert Line.secret_fields == ()


def _user_rows(user) -> list[ObjectChange]:
    return _changes(user)


def test_role_granted_and_revoked_is_logged(user_with_role):
    """Who gave whom which role: user.groups changes are change-log rows of the user."""
    from django.contrib.auth.models import Group

    user = user_with_role(None)
    admin_group = Group.objects.get(name="admin")
    with change_context(user_name="boss", remote_addr="192.0.2.1"):
        user.groups.add(admin_group)
        admin_group.user_set.remove(user)
    grant, revoke = [r for r in _user_rows(user) if r.action == "update"]
    assert grant.diff == {"groups": [[], ["admin"]]} and grant.user_name == "boss"
    assert revoke.diff == {"groups": [["admin"], []]}


def test_role_permission_change_is_logged(db):
    from django.contrib.auth.models import Group, Permission

    viewer = Group.objects.get(name="viewer")
    viewer.permissions.add(Permission.objects.get(codename="delete_line"))
    (row,) = [r for r in _changes(viewer) if r.action == "update"]
    assert row.diff["permissions"][1] == sorted([*row.diff["permissions"][0], "inventory.delete_line"])


def test_password_change_is_logged_masked_and_login_is_not(client, django_user_model):
    user = django_user_model.objects.create_user("kim", password="correct horse battery")
    user.set_password("another horse battery")
    user.save()
    client.post("/login/", {"username": "kim", "password": "another horse battery"})
    rows = _user_rows(user)
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].diff == {"password": [MASK, MASK]}
    for r in rows:
        assert "argon2" not in str([r.prechange_data, r.postchange_data, r.diff])


@pytest.mark.slow
def test_migrations_write_no_anonymous_rows(tmp_path):
    """Regression: the role migration's historical Group rows were logged as 'Group object (1)' by 'system'."""
    import sqlite3
    import subprocess
    import sys

    from web_test_setup import web_env

    (tmp_path / "linewatch.yaml").write_text(f"state_dir: {tmp_path / 'var'}\n")
    env = web_env(LINEWATCH_CONFIG=str(tmp_path / "linewatch.yaml"))
    result = subprocess.run([sys.executable, "-m", "linewatch.cli", "web", "migrate"], env=env, check=False,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    with sqlite3.connect(tmp_path / "var" / "web.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM audit_objectchange").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM auth_group").fetchone() == (5,)


def test_admin_offers_no_way_to_change_or_delete_login_events(admin_client):
    from web.accounts.logins.models import LoginEvent

    event = LoginEvent.objects.create(kind="login", user_name="kim", remote_addr="192.0.2.7")
    base = f"/admin/{LoginEvent._meta.app_label}/loginevent"
    assert admin_client.post(f"{base}/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    page = admin_client.get(f"{base}/{event.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    admin_client.post(f"{base}/{event.pk}/change/", {"user_name": "mallory"})
    assert LoginEvent.objects.get(pk=event.pk).user_name == "kim"
    assert admin_client.get(f"{base}/add/").status_code == 403
