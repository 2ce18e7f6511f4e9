"""The change-log pages: who sees which rows (role × page), filters, paging, CSV export, masking, read-only."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from web.audit.context import change_context
from web.audit.models import MASK, ObjectChange

pytestmark = pytest.mark.django_db

ROLES = [None, "viewer", "noc", "engineer", "finance", "admin"]


@pytest.fixture
def inv(make_inventory, user_with_role):
    with change_context(user_name="import"):
        data = make_inventory(3)
    # A role change: a row about a user (auth.user), which only those who may view users see.
    data["granted"] = user_with_role("viewer")
    return data


def _as(client: Client, user_with_role, role: str | None) -> Client:
    client.force_login(user_with_role(role))
    return client


def _history(obj) -> str:
    ct = ContentType.objects.get_for_model(obj)
    return f"/audit/history/{ct.app_label}/{ct.model}/{obj.pk}/"


def _row_of(obj) -> ObjectChange:
    ct = ContentType.objects.get_for_model(obj)
    return ObjectChange.objects.filter(changed_object_type=ct, changed_object_id=obj.pk).first()


PAGES = {
    "list": lambda inv: "/audit/changes/",
    "export": lambda inv: "/audit/changes/export.csv",
    "line-history": lambda inv: _history(inv["lines"][0]),
    "carrier-history": lambda inv: _history(inv["carriers"][0]),
    "device-history": lambda inv: _history(inv["device"]),
    "line-row": lambda inv: f"/audit/changes/{_row_of(inv['lines'][0]).pk}/",
    "user-history": lambda inv: _history(inv["granted"]),
    "user-row": lambda inv: f"/audit/changes/{_row_of(inv['granted']).pk}/",
    "login-list": lambda inv: "/audit/logins/",
    "login-export": lambda inv: "/audit/logins/export.csv",
    "api-logins": lambda inv: "/api/audit/logins/",
}
# Expected status per role; the rule lives in web/audit/permissions.py. No role: nothing at all. Every role sees
# the inventory's history; rows about users and roles only reach the admin (404 for a row one may not see).
INVENTORY_PAGE = {None: 403, "viewer": 200, "noc": 200, "engineer": 200, "finance": 200, "admin": 200}
ADMIN_ONLY = {None: 403, "viewer": 403, "noc": 403, "engineer": 403, "finance": 403, "admin": 200}
EXPECTED = {
    "list": INVENTORY_PAGE, "export": INVENTORY_PAGE, "line-history": INVENTORY_PAGE,
    "carrier-history": INVENTORY_PAGE, "device-history": INVENTORY_PAGE, "line-row": INVENTORY_PAGE,
    "user-history": {None: 403, "viewer": 403, "noc": 403, "engineer": 403, "finance": 403, "admin": 200},
    "user-row": {None: 403, "viewer": 404, "noc": 404, "engineer": 404, "finance": 404, "admin": 200},
    # The login log (who logged in from where) is the admin's: logins.view_loginevent.
    "login-list": ADMIN_ONLY, "login-export": ADMIN_ONLY, "api-logins": ADMIN_ONLY,
}
CASES = [(role, page) for page in PAGES for role in ROLES]


@pytest.mark.parametrize(("role", "page"), CASES, ids=[f"{r or 'none'}-{p}" for r, p in CASES])
def test_role_page_access(client, inv, user_with_role, role, page):
    response = _as(client, user_with_role, role).get(PAGES[page](inv))
    assert response.status_code == EXPECTED[page][role]


def test_superuser_sees_every_row(admin_client, inv):
    response = admin_client.get("/audit/changes/")
    assert response.context["paginator"].count == ObjectChange.objects.count()


def test_viewer_list_leaves_out_rows_about_users_and_roles(client, inv, user_with_role):
    response = _as(client, user_with_role, "viewer").get("/audit/changes/")
    types = {row.changed_object_type.app_label for row in response.context["page_obj"]}
    assert types == {"inventory"}
    assert response.context["paginator"].count == ObjectChange.objects.filter(
        changed_object_type__app_label="inventory").count()


def test_type_filter_refuses_a_type_the_user_may_not_see(client, inv, user_with_role):
    user_type = ContentType.objects.get_for_model(User)
    response = _as(client, user_with_role, "viewer").get(f"/audit/changes/?type={user_type.pk}")
    assert response.status_code == 200
    assert "type" in response.context["filter"].errors
    assert not any(r.changed_object_type == user_type for r in response.context["page_obj"])


def _filter_cases():
    return [
        pytest.param(lambda inv: {"user": "IMPORT"}, lambda row, inv: row.user_name == "import", id="user"),
        pytest.param(lambda inv: {"type": ContentType.objects.get(model="line").pk},
                     lambda row, inv: row.changed_object_type.model == "line", id="type"),
        pytest.param(lambda inv: {"action": "update"}, lambda row, inv: row.action == "update", id="action"),
        pytest.param(lambda inv: {"request_id": str(inv["request_id"])},
                     lambda row, inv: row.request_id == inv["request_id"], id="request-id"),
        pytest.param(lambda inv: {"since": _today(), "until": _today()}, lambda row, inv: True, id="date-today"),
        pytest.param(lambda inv: {"since": _today(1)}, lambda row, inv: False, id="date-from-tomorrow"),
        pytest.param(lambda inv: {"until": _today(-1)}, lambda row, inv: False, id="date-until-yesterday"),
    ]


def _today(days: int = 0) -> str:
    import datetime as dt

    from django.utils import timezone

    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("query", "keep"), _filter_cases())
def test_change_list_filters(admin_client, inv, query, keep):
    with change_context(user_name="someone") as ctx:
        line = inv["lines"][1]
        line.description = "changed"
        line.save()
    inv["request_id"] = ctx.request_id
    response = admin_client.get("/audit/changes/", query(inv))
    rows = list(response.context["filter"].qs)
    everything = list(ObjectChange.objects.all())
    assert rows == [row for row in everything if keep(row, inv)]
    assert everything and (rows or not keep(everything[0], inv))


@pytest.mark.parametrize(("field", "value"), [("since", "yesterday"), ("request_id", "not-a-uuid"),
                                              ("action", "rename")], ids=["date", "request-id", "action"])
def test_bad_filter_value_is_a_field_error_and_the_page_still_renders(admin_client, inv, field, value):
    response = admin_client.get("/audit/changes/", {field: value, "user": "import"})
    assert response.status_code == 200
    assert field in response.context["filter"].errors
    # The other filters still apply (nothing already given is lost).
    assert {row.user_name for row in response.context["page_obj"]} == {"import"}
    assert b'role="alert"' in response.content


def test_change_list_is_paginated(admin_client, make_inventory, settings):
    with change_context(user_name="bulk"):
        make_inventory(30)  # 30 lines + 30 members + carriers, sites, ... > 50 rows
    total = ObjectChange.objects.count()
    first = admin_client.get("/audit/changes/")
    assert len(first.context["page_obj"]) == settings.PAGINATE_BY < total
    last = admin_client.get("/audit/changes/", {"page": first.context["paginator"].num_pages})
    assert len(last.context["page_obj"]) == total - settings.PAGINATE_BY * (first.context["paginator"].num_pages - 1)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export_neutralises_formulas(admin_client, db):
    from web.inventory.models import Site

    with change_context(user_name="=cmd|' /C calc'!A0"):
        Site.objects.create(name='=HYPERLINK("http://evil.test","x")', code="@SUM")
    rows = _csv(admin_client.get("/audit/changes/export.csv", {"type": ContentType.objects.get(model="site").pk}))
    header, row = rows[0], rows[1]
    cell = dict(zip(header, row, strict=True))
    assert cell["object"] == "'" + '=HYPERLINK("http://evil.test","x")'
    assert cell["user"] == "'=cmd|' /C calc'!A0"
    assert all(not value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row)


def test_csv_export_follows_the_filters_and_the_role(client, inv, user_with_role):
    rows = _csv(_as(client, user_with_role, "viewer").get("/audit/changes/export.csv", {"action": "create"}))
    assert rows[0][0] == "time"
    body = rows[1:]
    assert body and {r[4] for r in body} == {"create"}
    assert all(r[5].startswith("inventory.") for r in body)
    assert len(body) == ObjectChange.objects.filter(action="create", changed_object_type__app_label="inventory").count()


def test_secrets_never_appear_on_pages_or_in_the_export(admin_client, inv):
    device = inv["device"]
    device.snmp_community = "n3w-s3cret"
    device.save()
    pages = [admin_client.get(_history(device)).content, admin_client.get(f"/audit/changes/{_row_of(device).pk}/").content,
             b"".join(admin_client.get("/audit/changes/export.csv").streaming_content)]
    for page in pages:
        assert b"s3cret" not in page
        assert MASK.encode() in page


def test_secret_is_masked_even_when_a_row_holds_it_in_clear(admin_client, inv):
    """A row written before masking existed (or by a buggy import) still shows no secret."""
    device = inv["device"]
    row = ObjectChange.objects.create(
        user_name="legacy", request_id=uuid.uuid4(), action="update",
        changed_object_type=ContentType.objects.get_for_model(device), changed_object_id=device.pk,
        object_repr=str(device), prechange_data={"snmp_community": "old-plain"},
        postchange_data={"snmp_community": "new-plain"}, diff={"snmp_community": ["old-plain", "new-plain"]})
    pages = [admin_client.get(_history(device)).content, admin_client.get(f"/audit/changes/{row.pk}/").content,
             b"".join(admin_client.get("/audit/changes/export.csv").streaming_content)]
    for page in pages:
        assert b"-plain" not in page


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_audit_pages_offer_no_way_to_edit(admin_client, inv, method):
    row = _row_of(inv["lines"][0])
    before = ObjectChange.objects.count()
    for url in ("/audit/changes/", f"/audit/changes/{row.pk}/", _history(inv["lines"][0])):
        assert getattr(admin_client, method)(url).status_code == 405
    assert ObjectChange.objects.count() == before


def test_history_of_a_deleted_object_is_kept_and_shown(admin_client, inv):
    line = inv["lines"][2]
    url, name = _history(line), line.name
    line.members.all().delete()
    line.delete()
    response = admin_client.get(url)
    assert response.status_code == 200
    assert [r.action for r in response.context["page_obj"]] == ["delete", "create"]
    assert name.encode() in response.content


@pytest.mark.parametrize("page", ["line", "carrier", "site"])
def test_object_pages_link_to_their_history(client, inv, user_with_role, page):
    obj = {"line": inv["lines"][0], "carrier": inv["carriers"][0], "site": inv["sites"][0]}[page]
    response = _as(client, user_with_role, "viewer").get(obj.get_absolute_url())
    assert _history(obj).encode() in response.content


def test_line_page_links_to_its_contract_history(client, inv, user_with_role):
    from web.inventory.models import Contract

    line = inv["lines"][0]
    contract = Contract.objects.create(line=line, mrc="1000.00", billing_model="flat")
    response = _as(client, user_with_role, "viewer").get(line.get_absolute_url())
    assert _history(contract).encode() in response.content


def test_nav_shows_the_change_log_only_to_those_who_may_see_it(client, inv, user_with_role):
    assert b"/audit/changes/" in _as(client, user_with_role, "viewer").get("/inventory/lines/").content
    assert Group.objects.filter(name="viewer").exists()


@pytest.mark.parametrize(("page", "korean"), [("list", "변경 이력"), ("line-history", "변경 이력")],
                         ids=["list", "history"])
def test_audit_pages_in_korean(client, inv, user_with_role, page, korean):
    response = _as(client, user_with_role, "viewer").get(PAGES[page](inv), headers={"accept-language": "ko"})
    html = response.content.decode()
    assert korean in html and "Change log" not in html and "Object type" not in html


API = "/api/audit/changes/"
API_EXPECTED = {None: 403, "viewer": 200, "noc": 200, "engineer": 200, "finance": 200, "admin": 200}


@pytest.mark.parametrize("role", ROLES, ids=[r or "none" for r in ROLES])
def test_api_change_log_follows_the_pages_rule(client, inv, user_with_role, role):
    response = _as(client, user_with_role, role).get(API, {"page_size": 500})
    assert response.status_code == API_EXPECTED[role]
    if response.status_code == 200:
        types = {row["object_type"].split(".")[0] for row in response.json()["results"]}
        assert types == ({"inventory", "auth"} if role == "admin" else {"inventory"})


def test_api_change_log_filters_masks_and_refuses_writes(admin_client, inv):
    device = inv["device"]
    device.snmp_community = "n3w-s3cret"
    device.save()
    response = admin_client.get(API, {"action": "update", "user": "system"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows and {r["action"] for r in rows} == {"update"}
    assert "s3cret" not in response.content.decode()
    assert admin_client.post(API, {}, content_type="application/json").status_code == 405
    row = rows[0]["id"]
    assert admin_client.delete(f"{API}{row}/").status_code == 405


# -- the login log beside the change log: who logged in from where, and what they changed --------------------


@pytest.fixture
def logins(inv):
    from linewatch.choices import LoginEventKind
    from web.accounts.logins.models import LoginEvent

    with change_context(user_name="kim", remote_addr="192.0.2.7"):
        line = inv["lines"][0]
        line.description = "kim was here"
        line.save()
    return [
        LoginEvent.objects.create(kind=LoginEventKind.LOGIN, user_name="kim", remote_addr="192.0.2.7", backend="local"),
        LoginEvent.objects.create(kind=LoginEventKind.LOGIN_FAILED, user_name="kim", remote_addr="198.51.100.9"),
        LoginEvent.objects.create(kind=LoginEventKind.LOCKED_OUT, user_name="=cmd|' /C calc'!A0",
                                  remote_addr="198.51.100.9"),
    ]


# Queries are built when the test runs: a date computed at collection is yesterday's after midnight.
LOGIN_FILTERS = [
    pytest.param(lambda: {"user": "KIM"}, lambda e: e.user_name == "kim", id="user"),
    pytest.param(lambda: {"address": "198.51.100.9"}, lambda e: e.remote_addr == "198.51.100.9", id="address"),
    pytest.param(lambda: {"kind": "login_failed"}, lambda e: e.kind == "login_failed", id="kind"),
    pytest.param(lambda: {"since": _today(1)}, lambda e: False, id="date-from-tomorrow"),
]


@pytest.mark.parametrize(("query", "keep"), LOGIN_FILTERS)
def test_login_log_tab_filters(client, logins, user_with_role, query, keep):
    response = _as(client, user_with_role, "admin").get("/audit/logins/", query())
    assert response.status_code == 200
    assert list(response.context["events"]) == [e for e in sorted(logins, key=lambda e: -e.pk) if keep(e)]


def test_login_log_and_change_log_share_user_and_address_filters_across_tabs(client, logins, user_with_role):
    """An auditor filters logins by user and address, switches tab and sees what that user changed from there."""
    admin = _as(client, user_with_role, "admin")
    page = admin.get("/audit/logins/", {"user": "kim", "address": "192.0.2.7", "kind": "login"})
    assert b'href="/audit/changes/?user=kim&amp;address=192.0.2.7"' in page.content  # kind is not shared
    changes = admin.get("/audit/changes/", {"user": "kim", "address": "192.0.2.7"})
    rows = list(changes.context["page_obj"])
    assert rows and {(r.user_name, r.remote_addr) for r in rows} == {("kim", "192.0.2.7")}
    assert b'href="/audit/logins/?user=kim&amp;address=192.0.2.7"' in changes.content


def test_change_log_tab_to_the_login_log_only_for_those_who_may_read_it(client, logins, user_with_role):
    assert b"/audit/logins/" in _as(client, user_with_role, "admin").get("/audit/changes/").content
    assert b"/audit/logins/" not in _as(Client(), user_with_role, "viewer").get("/audit/changes/").content


@pytest.mark.parametrize("page", ["/audit/changes/", "/audit/logins/"])
def test_bad_address_filter_is_a_field_error_not_a_server_error(admin_client, logins, page):
    """PostgreSQL's inet column would fail on a non-address: the filter refuses it first, naming the field."""
    response = admin_client.get(page, {"address": "not-an-ip", "user": "kim"})
    assert response.status_code == 200
    assert "address" in response.context["filter"].errors


def test_login_log_csv_export_follows_the_filters_and_neutralises_formulas(admin_client, logins):
    rows = _csv(admin_client.get("/audit/logins/export.csv", {"address": "198.51.100.9"}))
    assert rows[0] == ["time", "event", "user", "address", "request_id", "backend"]
    assert sorted(r[1] for r in rows[1:]) == ["locked_out", "login_failed"]
    assert "'=cmd|' /C calc'!A0" in {r[2] for r in rows[1:]}
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows[1:] for cell in r)


def test_login_log_shows_no_password_of_a_real_login(client, django_user_model, user_with_role):
    """Failed and successful logins through the login page reach the tab, the export and the API; no password."""
    django_user_model.objects.create_user("lee", password="lee-correct-password")
    Client().post("/login/", {"username": "lee", "password": "lee-wrong-password"})
    Client().post("/login/", {"username": "lee", "password": "lee-correct-password"})
    admin = _as(client, user_with_role, "admin")
    pages = [admin.get("/audit/logins/", {"user": "lee"}).content,
             b"".join(admin.get("/audit/logins/export.csv", {"user": "lee"}).streaming_content),
             admin.get("/api/audit/logins/", {"user": "lee"}).content]
    assert [e["kind"] for e in admin.get("/api/audit/logins/", {"user": "lee"}).json()["results"]] == [
        "login", "login_failed"]
    for page in pages:
        assert b"lee" in page
        assert b"lee-wrong-password" not in page and b"lee-correct-password" not in page


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_login_log_offers_no_way_to_edit(admin_client, logins, method):
    from web.accounts.logins.models import LoginEvent

    admin_client.get("/audit/logins/")  # logged in (a login event) before counting
    before = LoginEvent.objects.count()
    for url in ("/audit/logins/", "/audit/logins/export.csv", f"/api/audit/logins/{logins[0].pk}/"):
        assert getattr(admin_client, method)(url).status_code == 405
    assert LoginEvent.objects.count() == before


def test_login_log_in_korean(client, logins, user_with_role):
    html = _as(client, user_with_role, "admin").get("/audit/logins/", headers={"accept-language": "ko"}).content.decode()
    assert "로그인 기록" in html and "Login log" not in html and "Address" not in html


def test_api_change_and_login_logs_filter_by_address_and_refuse_a_non_address(admin_client, logins):
    changes = admin_client.get(API, {"address": "192.0.2.7"}).json()["results"]
    assert changes and {r["remote_addr"] for r in changes} == {"192.0.2.7"}
    events = admin_client.get("/api/audit/logins/", {"address": "198.51.100.9"}).json()["results"]
    assert sorted(e["kind"] for e in events) == ["locked_out", "login_failed"]
    for url in (API, "/api/audit/logins/"):
        response = admin_client.get(url, {"address": "not-an-ip"})
        assert response.status_code == 400 and "address" in response.json()
