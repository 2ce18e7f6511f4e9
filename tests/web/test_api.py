"""The REST API: the same permissions as the pages for every role and token × endpoint × method, field-level
JSON errors from the models' own rules, secrets never returned, audit rows for API changes, tokens."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from linewatch.choices import ChangeAction, Role, TokenScope
from web.accounts.permissions import is_permitted
from web.accounts.roles import ROLE_PERMISSIONS
from web.accounts.tokens import Token, hash_token
from web.audit.models import ObjectChange
from web.inventory import models

pytestmark = pytest.mark.django_db

# endpoint → model (every inventory model has one)
ENDPOINTS = {
    "carriers": models.Carrier, "billing-accounts": models.BillingAccount, "contacts": models.Contact,
    "sites": models.Site, "departments": models.Department, "cost-centres": models.CostCentre,
    "devices": models.Device, "lines": models.Line, "line-members": models.LineMember,
    "contracts": models.Contract, "discounts": models.Discount, "credit-tiers": models.CreditTier,
    "capacity-changes": models.CapacityChange, "contract-changes": models.ContractChange,
    "maintenance": models.PlannedMaintenance,
}
# (method, action, needs an object)
METHODS = [("get", "view", False), ("get", "view", True), ("post", "add", False), ("patch", "change", True),
           ("delete", "delete", True)]
# principal → (role of the user, how it authenticates)
PRINCIPALS = {
    "anonymous": (None, None), "no-role": ("", "session"),
    **{r.value: (r.value, "session") for r in Role},
    "read-token": (Role.ADMIN.value, TokenScope.READ), "write-token": (Role.ENGINEER.value, TokenScope.WRITE),
}


@pytest.fixture
def inv(make_inventory: Any) -> dict[str, Any]:
    """The shared small inventory plus one object of every model the API serves."""
    data = make_inventory(2)
    carrier = data["carriers"][0]
    data["billing_account"] = models.BillingAccount.objects.create(carrier=carrier, number="778812")
    data["contact"] = models.Contact.objects.create(carrier=carrier, role="noc", name="Telia NOC",
                                                    email="noc@telia.example")
    contract = models.Contract.objects.create(line=data["lines"][0], mrc=Decimal(1200), sla_target_pct=99.9)
    data["contract"] = contract
    data["discount"] = models.Discount.objects.create(contract=contract, name="loyalty", percent=Decimal(5))
    data["credit_tier"] = models.CreditTier.objects.create(contract=contract, below_pct=Decimal("99.5"),
                                                           credit_pct=Decimal(10))
    moment = timezone.now()
    models.CapacityChange.objects.create(line=data["lines"][0], effective=moment, capacity_bps=200_000_000)
    models.ContractChange.objects.create(contract=contract, effective=moment.date(), mrc=Decimal(1500))
    window = models.PlannedMaintenance.objects.create(carrier=carrier, starts=moment,
                                                      ends=moment + timedelta(hours=4))
    window.lines.set([data["lines"][0]])
    return data


def _object(inv: dict[str, Any], model: type) -> Any:
    return model._default_manager.order_by("pk").first()


def _client(user_with_role: Any, principal: str) -> tuple[Client, Any, Token | None]:
    role, auth = PRINCIPALS[principal]
    client = Client()
    if role is None:
        return client, None, None
    user = user_with_role(role or None)
    if auth == "session":
        client.force_login(user)
        return client, user, None
    token, key = Token.create(user=user, name="test", scope=auth)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}"), user, token


def _expected(principal: str, model: type, action: str) -> bool:
    """From the role table itself (not from the code under test)."""
    role, auth = PRINCIPALS[principal]
    if not role:
        return False
    if auth == TokenScope.READ and action != "view":
        return False
    return ("inventory", f"{action}_{model._meta.model_name}") in ROLE_PERMISSIONS[Role(role)]


CASES = [(p, e, m, a, d) for p in PRINCIPALS for e in ENDPOINTS for (m, a, d) in METHODS]


@pytest.mark.parametrize(("principal", "endpoint", "method", "action", "detail"), CASES,
                         ids=[f"{p}-{e}-{m}{'-detail' if d else ''}" for p, e, m, a, d in CASES])
def test_api_permission_is_the_ui_permission(user_with_role, inv, principal, endpoint, method, action, detail):
    """Every principal × endpoint × method is allowed exactly when the role table (and the token) allows it,
    and exactly when the pages' check (``is_permitted``) does."""
    model = ENDPOINTS[endpoint]
    client, user, token = _client(user_with_role, principal)
    url = f"/api/inventory/{endpoint}/" + (f"{_object(inv, model).pk}/" if detail else "")
    response = getattr(client, method)(url, data={} if method != "get" else None, content_type="application/json")
    allowed = _expected(principal, model, action)
    assert is_permitted(user, model, action, token=token) is allowed
    if allowed:
        # 400: an empty POST passed the permission check and failed validation; 409: the object is in use.
        assert response.status_code in (200, 201, 204, 400, 409), response.content
    else:
        assert response.status_code == (401 if principal == "anonymous" else 403), response.content


UI_PAGES = [("lines/", models.Line, "/inventory/lines/"), ("lines/{pk}/", models.Line, "/inventory/lines/{pk}/"),
            ("carriers/{pk}/", models.Carrier, "/inventory/carriers/{pk}/"),
            ("sites/{pk}/", models.Site, "/inventory/sites/{pk}/")]
UI_CASES = [(p, *page) for p in PRINCIPALS if PRINCIPALS[p][1] in (None, "session") for page in UI_PAGES]


@pytest.mark.parametrize(("principal", "api", "model", "page"), UI_CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in UI_CASES])
def test_api_and_page_allow_and_deny_the_same(user_with_role, inv, principal, api, model, page):
    client, _, _ = _client(user_with_role, principal)
    pk = _object(inv, model).pk
    ui = client.get(page.format(pk=pk))
    rest = client.get("/api/inventory/" + api.format(pk=pk))
    assert (ui.status_code == 200) == (rest.status_code == 200), (ui.status_code, rest.status_code)


@pytest.fixture
def admin_api(user_with_role: Any) -> Client:
    _, key = Token.create(user=user_with_role(Role.ADMIN.value), name="admin script", scope=TokenScope.WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _line_payload(inv: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "LINE-NEW", "carrier": inv["carriers"][0].pk, "circuit_id": "CID-NEW", "type": "internet",
            "site": inv["sites"][0].pk, "department": inv["departments"][0].pk, "capacity_bps": 100_000_000,
            **extra}


VALIDATION = [
    ("lines", {"install_date": "2025-06-01", "termination_date": "2025-01-01"}, "termination_date"),
    ("lines", {"capacity_bps": 0}, "capacity_bps"),
    ("lines", {"circuit_id": "CID-00000"}, "non_field_errors"),  # (carrier, circuit_id) is unique
    ("carriers", {"name": "Lumen", "currency": "EURO"}, "currency"),
    ("carriers", {"name": "Lumen", "portal_url": "https://u:p@portal.example"}, "portal_url"),
    ("devices", {"name": "d1", "address": "192.0.2.1", "snmp_version": "3", "snmp_user": "u",
                 "security_level": "authPriv"}, "security_level"),
    ("contracts", {"mrc": "100", "currency": "USD"}, "currency"),
    ("discounts", {"name": "both", "percent": "5", "amount": "10"}, "percent"),
    ("contacts", {"role": "escalation", "name": "Boss", "email": "b@x.example"}, "escalation_level"),
]


@pytest.mark.parametrize(("endpoint", "payload", "field"), VALIDATION,
                         ids=[f"{e}-{f}-{i}" for i, (e, _, f) in enumerate(VALIDATION)])
def test_api_validation_errors_name_the_field_as_the_form_does(admin_api, inv, endpoint, payload, field):
    """The model's ``full_clean()`` runs for the API: its errors come back as ``{field: [message]}``."""
    if endpoint == "lines":
        payload = _line_payload(inv, **payload)
    elif endpoint == "contracts":
        payload |= {"line": inv["lines"][1].pk}
    elif endpoint == "discounts":
        payload |= {"contract": inv["contract"].pk}
    elif endpoint == "contacts":
        payload |= {"carrier": inv["carriers"][0].pk}
    count = ENDPOINTS[endpoint]._default_manager.count()
    response = admin_api.post(f"/api/inventory/{endpoint}/", payload, content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors and all(isinstance(m, str) and m for m in errors[field]), errors
    assert ENDPOINTS[endpoint]._default_manager.count() == count


def test_api_line_error_is_the_model_clean_error(admin_api, inv):
    """The same message as ``Line.full_clean()`` gives the form."""
    from django.core.exceptions import ValidationError

    payload = _line_payload(inv, install_date="2025-06-01", termination_date="2025-01-01")
    line = models.Line(**{k: v for k, v in payload.items() if k not in ("carrier", "site", "department")},
                       carrier=inv["carriers"][0], site=inv["sites"][0], department=inv["departments"][0])
    with pytest.raises(ValidationError) as exc:
        line.full_clean()
    response = admin_api.post("/api/inventory/lines/", payload, content_type="application/json")
    assert response.json()["termination_date"] == exc.value.message_dict["termination_date"]


def test_api_create_line_with_member_and_contract(admin_api, inv):
    """Member by member: the line is planned until it has its interface (one POST with ``members`` does both)."""
    line = admin_api.post("/api/inventory/lines/", _line_payload(inv, status="planned"),
                          content_type="application/json")
    assert line.status_code == 201, line.content
    member = admin_api.post("/api/inventory/line-members/", {"line": line.json()["id"], "device": inv["device"].pk,
                            "interface": "xe-1/0/0"}, content_type="application/json")
    assert member.status_code == 201, member.content
    busy = admin_api.post("/api/inventory/line-members/", {"line": line.json()["id"], "device": inv["device"].pk,
                          "interface": "ge-0/0/0"}, content_type="application/json")
    assert busy.status_code == 400 and "interface" in busy.json()  # ge-0/0/0 carries LINE-000
    contract = admin_api.post("/api/inventory/contracts/", {"line": line.json()["id"], "mrc": "99.50"},
                              content_type="application/json")
    assert contract.status_code == 201, contract.content
    got = admin_api.get(f"/api/inventory/lines/{line.json()['id']}/").json()
    assert [m["interface"] for m in got["members"]] == ["xe-1/0/0"]
    full = admin_api.get(f"/api/inventory/contracts/{inv['contract'].pk}/").json()
    assert [d["name"] for d in full["discounts"]] == ["loyalty"] and len(full["credit_tiers"]) == 1


def test_device_secrets_are_write_only_and_never_returned(admin_api, inv):
    secrets = {"snmp_community": "c0mmunity-xyz", "auth_key": "auth-key-xyz-123", "priv_key": "priv-key-xyz-123"}
    created = admin_api.post("/api/inventory/devices/", {
        "name": "sel-core-1", "address": "192.0.2.7", "snmp_version": "3", "snmp_user": "lw",
        "security_level": "authPriv", "auth_protocol": "SHA-256", "priv_protocol": "AES-128",
        "auth_key": secrets["auth_key"], "priv_key": secrets["priv_key"]}, content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    kept = admin_api.patch(f"/api/inventory/devices/{pk}/", {"timeout_s": 5}, content_type="application/json")
    assert kept.status_code == 200, kept.content
    device = models.Device.objects.get(pk=pk)
    assert (device.auth_key, device.priv_key) == (secrets["auth_key"], secrets["priv_key"])  # absent: kept
    responses = [created, kept, admin_api.get(f"/api/inventory/devices/{pk}/"),
                 admin_api.get("/api/inventory/devices/"), admin_api.options(f"/api/inventory/devices/{pk}/"),
                 admin_api.get(f"/api/inventory/devices/{inv['device'].pk}/")]
    for response in responses:
        body = response.content.decode()
        for secret in [*secrets.values(), "s3cret-community"]:
            assert secret not in body
    assert set(responses[2].json()["stored_secrets"]) == {"auth_key", "priv_key"}
    assert "snmp_community" not in responses[2].json()


def test_api_change_is_audited_with_request_id_and_token_user(admin_api, inv):
    """The audit middleware runs before DRF authenticates the token: the row must still name the user."""
    line = inv["lines"][0]
    response = admin_api.patch(f"/api/inventory/lines/{line.pk}/", {"status": "offline"},
                               content_type="application/json")
    assert response.status_code == 200, response.content
    row = ObjectChange.objects.filter(changed_object_id=line.pk, action=ChangeAction.UPDATE).latest("pk")
    assert row.request_id == uuid.UUID(response["X-Request-ID"])
    assert row.user is not None and row.user.groups.filter(name=Role.ADMIN.value).exists()
    assert row.user_name == row.user.username
    assert row.diff["status"][1] == "offline"


def test_api_delete_of_object_in_use_is_409_and_keeps_it(admin_api, inv):
    carrier = inv["carriers"][0]
    response = admin_api.delete(f"/api/inventory/carriers/{carrier.pk}/")
    assert response.status_code == 409 and response.json()["used_by"], response.content
    assert models.Carrier.objects.filter(pk=carrier.pk).exists()


def test_api_lines_filter_and_paginate(admin_api, inv, make_inventory):
    response = admin_api.get("/api/inventory/lines/", {"carrier": inv["carriers"][0].pk, "page_size": 1,
                                                        "sort": "-capacity_bps"})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 1 and len(body["results"]) == 1
    assert body["results"][0]["name"] == "LINE-000"
    assert admin_api.get("/api/inventory/lines/", {"status": "nonsense"}).status_code == 400


TWENTY_DIGITS = 10**19  # beyond every integer column (int8 tops out at 9223372036854775807)
OUT_OF_RANGE = [
    ("filter", "get", "lines", {"carrier": TWENTY_DIGITS}, "carrier"),
    ("filter-negative", "get", "lines", {"site": -TWENTY_DIGITS}, "site"),
    ("filter-second-value", "get", "lines", {"department": ["{dept}", TWENTY_DIGITS]}, "department"),
    ("body-integer", "post", "lines", {"capacity_bps": TWENTY_DIGITS}, "capacity_bps"),
    ("body-foreign-key", "post", "lines", {"carrier": TWENTY_DIGITS}, "carrier"),
    ("body-small-integer", "post", "line-members", {"if_index": TWENTY_DIGITS}, "if_index"),
]


@pytest.mark.parametrize(("method", "endpoint", "data", "field"), [c[1:] for c in OUT_OF_RANGE],
                         ids=[c[0] for c in OUT_OF_RANGE])
def test_out_of_range_integer_is_a_400_field_error_not_an_overflow_500(admin_api, inv, method, endpoint, data,
                                                                        field):
    """A 20-digit integer in a filter or a body made SQLite raise OverflowError (a 500, found by schemathesis on
    ``?carrier=``); it is a 400 naming the field, from the column's own range, on SQLite and PostgreSQL alike."""
    data = {k: ([str(inv["departments"][0].pk) if v == "{dept}" else v for v in vs] if isinstance(vs, list) else vs)
            for k, vs in data.items()}
    if method == "get":
        response = admin_api.get(f"/api/inventory/{endpoint}/", data)
    else:
        payload = (_line_payload(inv, **data) if endpoint == "lines"
                   else {"line": inv["lines"][0].pk, "device": inv["device"].pk, "interface": "ge-9/9/9", **data})
        response = admin_api.post(f"/api/inventory/{endpoint}/", payload, content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) == {field} and all(isinstance(m, str) and m for m in errors[field]), errors


def test_out_of_range_integer_in_the_line_list_filter_is_a_form_error_not_an_overflow_500(user_with_role, inv):
    """The pages share the API's filter set: the list page shows the filter's error instead of a 500."""
    client = Client()
    client.force_login(user_with_role(Role.ADMIN.value))
    response = client.get("/inventory/lines/", {"carrier": TWENTY_DIGITS})
    assert response.status_code == 200
    assert response.context["filter"].errors.keys() == {"carrier"}


TOKEN_CASES = [("no-header", None, 401), ("wrong-keyword", "Basic abc", 401), ("unknown-token", "Bearer lw_nope", 401),
               ("extra-part", "Bearer a b", 401)]


@pytest.mark.parametrize(("header", "status"), [(h, s) for _, h, s in TOKEN_CASES], ids=[i for i, _, _ in TOKEN_CASES])
def test_bad_token_is_refused_not_redirected_to_login(inv, header, status):
    client = Client(**({"HTTP_AUTHORIZATION": header} if header else {}))
    response = client.get("/api/inventory/lines/")
    assert response.status_code == status and "login" not in response.get("Location", "")


def test_expired_token_is_refused(user_with_role, inv):
    _, key = Token.create(user=user_with_role(Role.VIEWER.value), name="old",
                          expires=timezone.now() - timedelta(seconds=1))
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/inventory/lines/").status_code == 401


def test_token_is_hashed_at_rest_and_its_log_row_masks_the_hash(user_with_role):
    token, key = Token.create(user=user_with_role(Role.VIEWER.value), name="grafana")
    stored = Token.objects.filter(pk=token.pk).values().get()
    assert key not in str(stored) and stored["key_hash"] == hash_token(key)
    row = ObjectChange.objects.filter(changed_object_id=token.pk, action=ChangeAction.CREATE).latest("pk")
    assert key not in str(row.postchange_data) and hash_token(key) not in str(row.postchange_data)


def test_create_api_token_command_prints_a_working_token_once(user_with_role, inv):
    user = user_with_role(Role.NOC.value)
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", user.username, "--name", "noc script", "--scope", "write", stdout=out,
                 stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("lw_") and key not in err.getvalue()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    line = inv["lines"][0]
    assert client.patch(f"/api/inventory/lines/{line.pk}/", {"status": "offline"},
                        content_type="application/json").status_code == 200
    assert client.post("/api/inventory/lines/", {}, content_type="application/json").status_code == 403


def test_create_api_token_command_names_an_unknown_user():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="'nobody' does not exist"):
        call_command("create_api_token", "nobody", "--name", "x")


def test_openapi_schema_has_no_warnings(tmp_path):
    """``spectacular --validate --fail-on-warn``: a warning (unnamed enum, untyped field) fails the test."""
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.stat().st_size > 0


def test_openapi_schema_lists_every_endpoint(user_with_role):
    from web.accounts.roles import INVENTORY_MODELS

    client = Client()
    client.force_login(user_with_role(Role.VIEWER.value))
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {m._meta.model_name for m in ENDPOINTS.values()} == set(INVENTORY_MODELS)
    for endpoint in ENDPOINTS:
        assert set(paths[f"/api/inventory/{endpoint}/"]) >= {"get", "post"}
        assert set(paths[f"/api/inventory/{endpoint}/{{id}}/"]) >= {"get", "put", "patch", "delete"}
    assert Client().get("/api/schema/").status_code == 401


NOC_CHANGES = [("status", {"status": "offline"}, 200), ("capacity", {"capacity_bps": 1}, 403),
               ("status-and-name", {"status": "offline", "name": "RENAMED"}, 403),
               ("unchanged-name-with-status", {"status": "offline", "name": "LINE-000"}, 200)]


@pytest.mark.parametrize(("payload", "status"), [(p, s) for _, p, s in NOC_CHANGES], ids=[i for i, _, _ in NOC_CHANGES])
def test_noc_may_change_only_a_line_status_through_the_api(user_with_role, inv, payload, status):
    """As on the line form: the NOC (change, not add) edits the status alone."""
    client = Client()
    client.force_login(user_with_role(Role.NOC.value))
    line = inv["lines"][0]
    before = line.status
    assert before != "offline"
    response = client.patch(f"/api/inventory/lines/{line.pk}/", payload, content_type="application/json")
    assert response.status_code == status, response.content
    line.refresh_from_db()
    assert line.name == "LINE-000" and line.capacity_bps == 10_000_000
    assert line.status == ("offline" if status == 200 else before)


def test_device_secret_given_empty_is_removed_and_browsable_api_shows_none(user_with_role, inv):
    client = Client()
    client.force_login(user_with_role(Role.ADMIN.value))
    device = inv["device"]
    page = client.get(f"/api/inventory/devices/{device.pk}/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and "s3cret-community" not in page.content.decode()
    refused = client.patch(f"/api/inventory/devices/{device.pk}/", {"snmp_community": ""},
                           content_type="application/json")
    assert refused.status_code == 400 and "snmp_community" in refused.json()  # SNMPv2c needs one
    device.refresh_from_db()
    assert device.snmp_community == "s3cret-community"
    v3 = models.Device.objects.create(name="v3", address="192.0.2.9", snmp_version="3", snmp_user="lw",
                                      security_level="authPriv", auth_protocol="SHA", auth_key="auth-key-12345",
                                      priv_protocol="AES-128", priv_key="priv-key-12345")
    response = client.patch(f"/api/inventory/devices/{v3.pk}/", {"security_level": "authNoPriv",
                            "priv_protocol": "", "priv_key": ""}, content_type="application/json")
    assert response.status_code == 200, response.content
    v3.refresh_from_db()
    assert (v3.priv_key, v3.auth_key) == ("", "auth-key-12345")
    assert response.json()["stored_secrets"] == ["auth_key"]
