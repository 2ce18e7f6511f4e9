"""A line's member interfaces are checked together, by the core's rules (linewatch/inventory.py ``Line``), on
every write path: the line form's interface rows, the API's line members and lines, the YAML import.

The bug: each path checked one member at a time, so a second primary or a duplicate member could be saved; the
collector then refused the whole ``/api/inventory.json`` and kept its last good copy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from django.utils.html import escape

from linewatch.choices import LineStatus, Role, TokenScope
from linewatch.errors import ConfigError
from linewatch.inventory import Inventory
from web.accounts.tokens import Token
from web.inventory.io import export_dir, import_dir
from web.inventory.models import Line, LineMember

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    """Line ``L-H8`` (active) starts with ``start`` members (interface, role) on fra-edge-1; ``op`` breaks a rule:
    ``("add", interface, role)``, ``("role", row, role)`` or ``("delete", row)``; the error names ``field``."""

    start: tuple[tuple[str, str], ...]
    op: tuple[Any, ...]
    field: str


CASES = {
    "second-primary": Case((("xe-9/0/0", "primary"), ("xe-9/0/1", "backup")), ("add", "xe-9/0/2", "primary"), "role"),
    "duplicate-member": Case((("xe-9/0/0", "member"),), ("add", "xe-9/0/0", "member"), "interface"),
    "member-beside-a-primary": Case((("xe-9/0/0", "primary"), ("xe-9/0/1", "backup")),
                                    ("add", "xe-9/0/2", "member"), "role"),
    "only-backups": Case((("xe-9/0/0", "member"),), ("role", 0, "backup"), "role"),
    "primary-changed-to-backup": Case((("xe-9/0/0", "primary"), ("xe-9/0/1", "backup")), ("role", 0, "backup"),
                                      "role"),
    "polled-line-without-member": Case((("xe-9/0/0", "member"),), ("delete", 0), "line"),
    "primary-deleted-leaving-a-backup": Case((("xe-9/0/0", "primary"), ("xe-9/0/1", "backup")), ("delete", 0),
                                             "line"),
    "port-of-another-line": Case((("xe-9/0/0", "member"),), ("add", "ge-0/0/1", "member"), "interface"),
}
IDS = list(CASES)


@pytest.fixture
def inv(make_inventory):
    return make_inventory(2)  # LINE-000, LINE-001 on fra-edge-1 ge-0/0/0, ge-0/0/1


def _line(inv: dict[str, Any], case: Case) -> Line:
    line = Line.objects.create(name="L-H8", carrier=inv["carriers"][0], circuit_id="CID-H8", type="internet",
                               status=LineStatus.ACTIVE.value, site=inv["sites"][0],
                               department=inv["departments"][0], capacity_bps=10**9)
    for interface, role in case.start:
        LineMember.objects.create(line=line, device=inv["device"], interface=interface, role=role)
    return line


def _members(line: Line) -> list[tuple[str, str]]:
    return sorted(line.members.values_list("interface", "role"))


@pytest.fixture
def engineer(client: Client, user_with_role) -> Client:
    client.force_login(user_with_role(Role.ENGINEER.value))
    return client


@pytest.fixture
def engineer_api(user_with_role) -> Client:
    _, key = Token.create(user=user_with_role(Role.ENGINEER.value), name="h8", scope=TokenScope.WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _form_data(line: Line, case: Case) -> tuple[dict[str, Any], int | None, str]:
    """The edit page's POST: the line's fields, its rows with ``case.op`` applied; the row changed and the value typed."""
    data = {"name": line.name, "carrier": line.carrier_id, "circuit_id": line.circuit_id, "type": line.type,
            "status": line.status, "site": line.site_id, "department": line.department_id,
            "capacity_bps": line.capacity_bps, "description": ""}
    rows = [{"id": m.pk, "line": line.pk, "device": m.device_id, "interface": m.interface, "if_index": "",
             "role": m.role} for m in line.members.order_by("pk")]
    initial = len(rows)
    kind, *args = case.op
    row, typed = None, ""
    if kind == "add":
        rows.append({"device": line.members.first().device_id, "interface": args[0], "if_index": "", "role": args[1]})
        row, typed = len(rows) - 1, args[1] if case.field == "role" else args[0]
    elif kind == "role":
        rows[args[0]]["role"] = typed = args[1]
        row = args[0]
    else:
        rows[args[0]]["DELETE"] = "on"
    data |= {"members-TOTAL_FORMS": len(rows), "members-INITIAL_FORMS": initial, "members-MIN_NUM_FORMS": 0,
             "members-MAX_NUM_FORMS": 1000}
    for i, r in enumerate(rows):
        data |= {f"members-{i}-{k}": v for k, v in r.items()}
    return data, row, typed


@pytest.mark.parametrize("case", CASES.values(), ids=IDS)
def test_member_breaking_the_lines_rules_is_refused_in_the_form_on_its_row_nothing_saved(engineer, inv, case):
    """The formset checks the rows together: the error on the offending row and field, the typed value kept."""
    line = _line(inv, case)
    before = _members(line)
    data, row, typed = _form_data(line, case)
    response = engineer.post(f"/inventory/lines/{line.pk}/edit/", data)
    assert response.status_code == 200, response.get("Location")  # the form again, not the redirect
    formset = response.context["formsets"][0]
    if row is None:  # a deletion: on the rows left (the backup without its primary) or the whole formset
        assert formset.non_form_errors() or any(f.errors.get("role") for f in formset.forms), formset.errors
    else:
        assert formset.forms[row].errors.get(case.field), formset.errors
        assert formset.forms[row][case.field].value() == typed
    shown = formset.non_form_errors() + [m for f in formset.forms for ms in f.errors.values() for m in ms]
    assert shown and all(escape(m) in response.content.decode() for m in shown)  # on the page, not only in the form
    assert _members(line) == before


@pytest.mark.parametrize("case", CASES.values(), ids=IDS)
def test_member_breaking_the_lines_rules_is_refused_by_the_api_naming_the_field(engineer_api, inv, case):
    """Adding, changing or deleting a member that breaks its line's rules is a 400 naming the field."""
    line = _line(inv, case)
    before = _members(line)
    kind, *args = case.op
    url = "/api/inventory/line-members/"
    if kind == "add":
        response = engineer_api.post(url, {"line": line.pk, "device": inv["device"].pk, "interface": args[0],
                                           "role": args[1]}, content_type="application/json")
    else:
        member = line.members.order_by("pk")[args[0]]
        response = (engineer_api.patch(f"{url}{member.pk}/", {"role": args[1]}, content_type="application/json")
                    if kind == "role" else engineer_api.delete(f"{url}{member.pk}/"))
    assert response.status_code == 400, response.content
    assert case.field in response.json(), response.json()
    assert _members(line) == before


@pytest.mark.parametrize("case", [c for c in CASES.values() if c.op[0] != "delete"],
                         ids=[i for i, c in CASES.items() if c.op[0] != "delete"])
def test_member_breaking_the_lines_rules_is_refused_by_the_import_naming_file_line_and_field(tmp_path, inv, case):
    """The import validates each line with all its members (the core's model): file:line: members…, nothing saved."""
    line = _line(inv, case)
    export_dir(tmp_path, secrets="clear")
    lines_yaml = tmp_path / "lines.yaml"
    doc = yaml.safe_load(lines_yaml.read_text())
    entry = next(e for e in doc["lines"] if e["id"] == line.name)
    kind, *args = case.op
    if kind == "add":
        entry["members"].append({"device": inv["device"].name, "interface": args[0], "role": args[1]})
    else:
        entry["members"][args[0]]["role"] = args[1]
    lines_yaml.write_text(yaml.safe_dump(doc, sort_keys=False))
    before = _members(line)
    with pytest.raises(ConfigError) as caught:
        import_dir(tmp_path)
    problems = [p for p in caught.value.problems if "members" in p.key or p.key.endswith(("interface", "role"))]
    assert problems and all(Path(p.file).name == "lines.yaml" and p.line for p in problems), caught.value.problems
    assert _members(line) == before


def test_line_patch_leaving_a_polled_line_without_members_is_refused_naming_status(engineer_api, inv):
    """A planned line without members may not become active by the API (nor by the form: the line's clean())."""
    line = Line.objects.create(name="L-PLANNED", carrier=inv["carriers"][0], circuit_id="CID-P", type="internet",
                               status=LineStatus.PLANNED.value, site=inv["sites"][0],
                               department=inv["departments"][0], capacity_bps=10**9)
    response = engineer_api.patch(f"/api/inventory/lines/{line.pk}/", {"status": LineStatus.ACTIVE.value},
                                  content_type="application/json")
    assert response.status_code == 400 and "status" in response.json(), response.content
    line.refresh_from_db()
    assert line.status == LineStatus.PLANNED.value


def test_valid_primary_backup_change_in_one_form_post_is_saved(engineer, inv):
    """Swapping primary and backup on the form is checked as a whole (not row by row) and saved."""
    line = _line(inv, Case((("xe-9/0/0", "primary"), ("xe-9/0/1", "backup")), ("role", 0, "backup"), "role"))
    data, _, _ = _form_data(line, Case((), ("role", 0, "backup"), "role"))
    data["members-1-role"] = "primary"
    response = engineer.post(f"/inventory/lines/{line.pk}/edit/", data)
    assert response.status_code == 302, response.context and response.context["formsets"][0].errors
    assert _members(line) == [("xe-9/0/0", "backup"), ("xe-9/0/1", "primary")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_inventory_document_stays_valid_after_any_sequence_of_accepted_api_writes(engineer_api, inv, seed):
    """Random member and line writes through the API: each is accepted or refused (never a 500), and after each
    the collector's model validates ``/api/inventory.json``."""
    rng = random.Random(seed)
    lines = [_line(inv, Case((("xe-9/0/0", "member"),), ("add",), "")), *inv["lines"]]
    ports = [f"xe-9/0/{i}" for i in range(3)] + ["ge-0/0/0", "ge-0/0/1"]
    roles = ["member", "primary", "backup"]
    statuses = [s.value for s in LineStatus]
    url = "/api/inventory/line-members/"
    for _ in range(40):
        members = list(LineMember.objects.order_by("pk"))
        op = rng.choice(["add", "add", "role", "delete", "status"])
        if op == "add" or not members:
            response = engineer_api.post(url, {"line": rng.choice(lines).pk, "device": inv["device"].pk,
                                               "interface": rng.choice(ports), "role": rng.choice(roles)},
                                         content_type="application/json")
        elif op == "role":
            response = engineer_api.patch(f"{url}{rng.choice(members).pk}/", {"role": rng.choice(roles)},
                                          content_type="application/json")
        elif op == "delete":
            response = engineer_api.delete(f"{url}{rng.choice(members).pk}/")
        else:
            response = engineer_api.patch(f"/api/inventory/lines/{rng.choice(lines).pk}/",
                                          {"status": rng.choice(statuses)}, content_type="application/json")
        assert response.status_code in (200, 201, 204, 400), (op, response.content)
        document = engineer_api.get("/api/inventory.json")
        assert document.status_code == 200, document.content
        Inventory.model_validate(document.json())


def test_planned_line_set_active_with_its_first_interface_in_one_form_post_is_saved(engineer, inv):
    """Bringing a planned line up on the form: its status and its first interface in the same post."""
    line = _line(inv, Case((), ("add",), ""))  # no interface yet: only a planned line may be so
    Line.objects.filter(pk=line.pk).update(status=LineStatus.PLANNED.value)
    line.refresh_from_db()
    data = {"name": line.name, "carrier": line.carrier_id, "circuit_id": line.circuit_id, "type": line.type,
            "status": LineStatus.ACTIVE.value, "site": line.site_id, "department": line.department_id,
            "capacity_bps": line.capacity_bps, "description": "",
            "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0, "members-MIN_NUM_FORMS": 0,
            "members-MAX_NUM_FORMS": 1000,
            "members-0-device": inv["device"].pk, "members-0-interface": "xe-9/0/5", "members-0-if_index": "",
            "members-0-role": "member"}
    response = engineer.post(f"/inventory/lines/{line.pk}/edit/", data)
    assert response.status_code == 302, response.context and (response.context["form"].errors,
                                                              response.context["formsets"][0].errors)
    line.refresh_from_db()
    assert line.status == LineStatus.ACTIVE.value and _members(line) == [("xe-9/0/5", "member")]
