"""The API creates or replaces a line WITH its member interfaces in one request (as the line form does): nested
``members`` on line POST/PUT/PATCH, checked together with the line by the core's rules before anything is saved,
in one transaction, change-logged per member.

The gap: a line's members were read-only on ``/api/inventory/lines/``, so a client had to create the line
``planned``, add members through ``/api/inventory/line-members/`` and then set it ``active``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from linewatch.choices import ChangeAction, LineStatus, Role, TokenScope
from web.accounts.tokens import Token
from web.audit.models import ObjectChange
from web.inventory.models import Line, LineMember

pytestmark = pytest.mark.django_db

URL = "/api/inventory/lines/"


@pytest.fixture
def inv(make_inventory):
    return make_inventory(2)  # LINE-000 (planned), LINE-001 on fra-edge-1 ge-0/0/0, ge-0/0/1


def _token_client(user) -> Client:
    _, key = Token.create(user=user, name="h11", scope=TokenScope.WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def engineer_api(user_with_role) -> Client:
    return _token_client(user_with_role(Role.ENGINEER.value))


def _line_body(inv: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "L-H11", "carrier": inv["carriers"][0].pk, "circuit_id": "CID-H11", "type": "internet",
            "status": LineStatus.ACTIVE.value, "site": inv["sites"][0].pk, "department": inv["departments"][0].pk,
            "capacity_bps": 10**9} | extra


def _m(inv: dict[str, Any], interface: str, role: str = "member") -> dict[str, Any]:
    return {"device": inv["device"].pk, "interface": interface, "role": role}


def _members(line: Line) -> list[tuple[str, str]]:
    return sorted(line.members.values_list("interface", "role"))


def _audit(model: type, action: ChangeAction | None = None) -> int:
    rows = ObjectChange.objects.filter(changed_object_type=ContentType.objects.get_for_model(model))
    return (rows.filter(action=action) if action else rows).count()


def _line_with(inv: dict[str, Any], status: str, *members: tuple[str, str]) -> Line:
    line = Line.objects.create(name="L-H11", carrier=inv["carriers"][0], circuit_id="CID-H11", type="internet",
                               status=status, site=inv["sites"][0], department=inv["departments"][0],
                               capacity_bps=10**9)
    for interface, role in members:
        LineMember.objects.create(line=line, device=inv["device"], interface=interface, role=role)
    return line


def test_line_post_with_two_members_creates_an_active_line_with_them_change_logged(engineer_api, inv):
    """One POST: an active primary/backup line, its two members saved and logged (one create row each)."""
    response = engineer_api.post(URL, _line_body(inv, members=[_m(inv, "xe-9/0/0", "primary"),
                                                               _m(inv, "xe-9/0/1", "backup")]),
                                 content_type="application/json")
    assert response.status_code == 201, response.content
    line = Line.objects.get(name="L-H11")
    assert line.status == LineStatus.ACTIVE.value
    assert _members(line) == [("xe-9/0/0", "primary"), ("xe-9/0/1", "backup")]
    assert sorted((m["interface"], m["role"]) for m in response.json()["members"]) == _members(line)
    request_id = ObjectChange.objects.get(changed_object_type=ContentType.objects.get_for_model(Line),
                                          changed_object_id=line.pk, action=ChangeAction.CREATE).request_id
    logged = ObjectChange.objects.filter(request_id=request_id,
                                         changed_object_type=ContentType.objects.get_for_model(LineMember))
    assert sorted(logged.values_list("action", "changed_object_id")) == sorted(
        (ChangeAction.CREATE.value, pk) for pk in line.members.values_list("pk", flat=True))


@dataclass(frozen=True)
class Bad:
    """A POST whose second member (row 1) is refused on ``field``."""

    second: dict[str, Any]
    field: str


BAD = {
    "second-primary": Bad({"interface": "xe-9/0/1", "role": "primary"}, "role"),
    "member-beside-a-primary": Bad({"interface": "xe-9/0/1", "role": "member"}, "role"),
    "duplicate-port": Bad({"interface": "xe-9/0/0", "role": "backup"}, "interface"),
    "port-of-another-line": Bad({"interface": "ge-0/0/1", "role": "backup"}, "interface"),  # LINE-001's
    "unknown-role": Bad({"interface": "xe-9/0/1", "role": "standby"}, "role"),
    "unknown-device": Bad({"interface": "xe-9/0/1", "role": "backup", "device": 999_999}, "device"),
    "no-port": Bad({"interface": "", "role": "backup"}, "interface"),
}


@pytest.mark.parametrize("bad", BAD.values(), ids=list(BAD))
def test_line_post_with_a_bad_member_is_a_400_naming_its_row_and_field_nothing_saved(engineer_api, inv, bad):
    """``{"members": {"1": {field: [...]}}}``: no line row, no member row, no change-log row."""
    lines, members, audit = Line.objects.count(), LineMember.objects.count(), ObjectChange.objects.count()
    second = _m(inv, "") | bad.second
    response = engineer_api.post(URL, _line_body(inv, members=[_m(inv, "xe-9/0/0", "primary"), second]),
                                 content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()["members"]
    assert list(errors) == ["1"] and errors["1"].get(bad.field), errors
    assert (Line.objects.count(), LineMember.objects.count(), ObjectChange.objects.count()) == (
        lines, members, audit)


def test_line_put_replaces_its_members_kept_port_keeps_its_row(engineer_api, inv):
    """PUT: the members become exactly those given; a kept port keeps its row (role updated), each change logged."""
    line = _line_with(inv, LineStatus.ACTIVE.value, ("xe-9/0/0", "member"), ("xe-9/0/1", "member"))
    kept = line.members.get(interface="xe-9/0/1").pk
    before = {a: _audit(LineMember, a) for a in ChangeAction}
    response = engineer_api.put(f"{URL}{line.pk}/", _line_body(inv, members=[
        _m(inv, "xe-9/0/1", "primary"), _m(inv, "xe-9/0/2", "backup")]), content_type="application/json")
    assert response.status_code == 200, response.content
    assert _members(line) == [("xe-9/0/1", "primary"), ("xe-9/0/2", "backup")]
    assert line.members.get(interface="xe-9/0/1").pk == kept
    assert {a: _audit(LineMember, a) - before[a] for a in ChangeAction} == {
        ChangeAction.CREATE: 1, ChangeAction.UPDATE: 1, ChangeAction.DELETE: 1}


def test_line_put_whose_member_is_refused_keeps_the_line_and_its_members(engineer_api, inv):
    """A refused member (a port of another line, found when saving) rolls back the line's fields and deletions."""
    line = _line_with(inv, LineStatus.ACTIVE.value, ("xe-9/0/0", "member"))
    audit = ObjectChange.objects.count()
    response = engineer_api.put(f"{URL}{line.pk}/", _line_body(inv, capacity_bps=1, members=[
        _m(inv, "xe-9/0/2", "primary"), _m(inv, "ge-0/0/1", "backup")]), content_type="application/json")
    assert response.status_code == 400 and response.json()["members"]["1"].get("interface"), response.content
    line.refresh_from_db()
    assert line.capacity_bps == 10**9 and _members(line) == [("xe-9/0/0", "member")]
    assert ObjectChange.objects.count() == audit


@dataclass(frozen=True)
class Patch:
    """Line ``L-H11`` in ``status`` with ``start`` members; PATCH ``payload`` (members on fra-edge-1) -> ``after``."""

    status: str
    start: tuple[tuple[str, str], ...]
    payload: dict[str, Any]
    after: list[tuple[str, str]]


_ONE = (("xe-9/0/0", "member"),)
PATCHES = {
    "without-members-leaves-them": Patch("active", _ONE, {"description": "patched"}, [("xe-9/0/0", "member")]),
    "members-replace-them": Patch("active", _ONE, {"members": [{"interface": "xe-9/0/5", "role": "member"}]},
                                  [("xe-9/0/5", "member")]),
    "planned-to-active-with-its-first-member": Patch(
        "planned", (), {"status": "active", "members": [{"interface": "xe-9/0/5", "role": "member"}]},
        [("xe-9/0/5", "member")]),
    "empty-members-of-a-planned-line": Patch("planned", _ONE, {"members": []}, []),
}


@pytest.mark.parametrize("case", PATCHES.values(), ids=list(PATCHES))
def test_line_patch_changes_members_only_when_given(engineer_api, inv, case):
    """PATCH without ``members`` leaves them; with, they are replaced, checked with the line's new status."""
    line = _line_with(inv, case.status, *case.start)
    payload = case.payload
    if "members" in payload:
        payload = payload | {"members": [{"device": inv["device"].pk} | m for m in payload["members"]]}
    response = engineer_api.patch(f"{URL}{line.pk}/", payload, content_type="application/json")
    assert response.status_code == 200, response.content
    assert _members(line) == case.after


def test_line_patch_emptying_an_active_lines_members_is_refused_naming_members(engineer_api, inv):
    """A polled line needs a member: ``members: []`` is a 400 on ``members`` (no row to name), nothing deleted."""
    line = _line_with(inv, LineStatus.ACTIVE.value, ("xe-9/0/0", "member"))
    response = engineer_api.patch(f"{URL}{line.pk}/", {"members": []}, content_type="application/json")
    assert response.status_code == 400 and response.json()["members"], response.content
    assert _members(line) == [("xe-9/0/0", "member")]


@pytest.mark.parametrize("via", ["session", "token"])
def test_noc_may_not_change_a_lines_members_through_the_api(user_with_role, inv, via):
    """The NOC's change of a line is its status only (changeable_fields): ``members`` is a 403 naming it."""
    user = user_with_role(Role.NOC.value)
    client = _token_client(user) if via == "token" else Client()
    if via == "session":
        client.force_login(user)
    line = inv["lines"][1]
    before = _members(line)
    response = client.patch(f"{URL}{line.pk}/", {"status": "offline", "members": [_m(inv, "xe-9/0/9")]},
                            content_type="application/json")
    assert response.status_code == 403 and response.json()["fields"] == ["members"], response.content
    line.refresh_from_db()
    assert line.status != "offline" and _members(line) == before


def test_read_only_inventory_refuses_a_line_post_with_members(settings, user_with_role, inv):
    settings.LINEWATCH_INVENTORY_READ_ONLY = True
    client = Client()
    client.force_login(user_with_role(Role.ADMIN.value))
    response = client.post(URL, _line_body(inv, members=[_m(inv, "xe-9/0/0")]), content_type="application/json")
    assert response.status_code == 403, response.content
    assert not Line.objects.filter(name="L-H11").exists()


def test_line_patch_member_without_device_is_a_400_naming_members_0_device(engineer_api, inv):
    """A partial update does not make a member's device optional."""
    line = _line_with(inv, LineStatus.ACTIVE.value, ("xe-9/0/0", "member"))
    response = engineer_api.patch(f"{URL}{line.pk}/", {"members": [{"interface": "xe-9/0/1"}]},
                                  content_type="application/json")
    assert response.status_code == 400 and response.json()["members"]["0"].get("device"), response.content
    assert _members(line) == [("xe-9/0/0", "member")]


@pytest.mark.parametrize("request_schema", ["LineRequest", "PatchedLineRequest"])
def test_openapi_schema_shows_the_lines_writable_members(user_with_role, request_schema):
    client = Client()
    client.force_login(user_with_role(Role.VIEWER.value))
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schemas = response.json()["components"]["schemas"]
    members = schemas[request_schema]["properties"]["members"]
    assert members["type"] == "array", members
    item = schemas[members["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(item["properties"]) == {"device", "interface", "if_index", "role"} and item["required"] == ["device"]


@pytest.mark.parametrize(("status", "created"), [(LineStatus.ACTIVE.value, False), (LineStatus.PLANNED.value, True)])
def test_line_post_of_a_polled_line_without_members_is_refused_naming_members(engineer_api, inv, status, created):
    """It used to be accepted: the inventory document then held an active line without an interface, which the
    collectors' model refuses — so they kept their last good copy and no later change reached them. A planned line
    may wait for its interfaces."""
    logged = _audit(Line)
    response = engineer_api.post(URL, _line_body(inv, status=status), content_type="application/json")
    assert (response.status_code == 201) is created, response.content
    if not created:
        assert response.status_code == 400 and response.json()["members"], response.content
        assert not Line.objects.filter(name="L-H11").exists() and _audit(Line) == logged
