"""Carrier, site, device and contract pages; their lists and add/edit forms; a line's member interfaces in the
line form (one transaction); the line form's fields follow the API's rule (web/accounts/permissions.py)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from linewatch.choices import ContactRole, LineStatus
from web.audit.models import ObjectChange
from web.inventory.models import (
    BillingAccount,
    Carrier,
    Contact,
    Contract,
    CreditTier,
    Device,
    Discount,
    Line,
    LineMember,
    Site,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def inv(make_inventory):
    return make_inventory(6)  # LINE-000..005 on fra-edge-1 ge-0/0/0..5; LINE-005 is decommissioned


@pytest.fixture
def login(client: Client, user_with_role):
    def as_role(role: str | None) -> Client:
        client.force_login(user_with_role(role))
        return client

    return as_role


def _management(prefix: str, rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-{k}": v for k, v in row.items()}
    return data


def _new_line(inv, name: str = "LINE-NEW") -> dict[str, Any]:
    return {"name": name, "carrier": inv["carriers"][0].pk, "circuit_id": f"CID-{name}", "type": "internet",
            "status": "active", "site": inv["sites"][0].pk, "department": inv["departments"][0].pk,
            "capacity_bps": 100_000_000}


def _member(inv, **values: Any) -> dict[str, Any]:
    return {"device": inv["device"].pk, "interface": "", "if_index": "", "role": "member"} | values


def _changes(model: str, action: str) -> list[ObjectChange]:
    """Change-log rows written through the pages (the fixtures' own are the ``system``'s)."""
    return list(ObjectChange.objects.filter(changed_object_type__model=model, action=action).exclude(
        user_name="system"))


# --- line member interfaces in the line form -------------------------------------------------------------------


def test_line_add_saves_the_line_and_its_two_members_and_logs_each(login, inv):
    client = login("engineer")
    data = _new_line(inv) | _management("members", [_member(inv, interface="xe-1/0/0"),
                                                     _member(inv, interface="xe-1/0/1", role="backup")])
    response = client.post("/inventory/lines/add/", data)
    line = Line.objects.get(name="LINE-NEW")
    assert response.status_code == 302 and response["Location"] == line.get_absolute_url()
    assert sorted(line.members.values_list("interface", "role")) == [("xe-1/0/0", "member"), ("xe-1/0/1", "backup")]
    logged = _changes("linemember", "create")
    assert len(logged) == 2 and {c.user_name for c in logged} == {response.wsgi_request.user.username}


BAD_MEMBERS = [
    pytest.param({"interface": "ge-0/0/1"}, "interface", "already carries line LINE-001", id="port-of-another-line"),
    pytest.param({}, "interface", "", id="neither-interface-nor-ifindex"),
    pytest.param({"interface": "xe-9/9/9", "if_index": 7}, "interface", "", id="both-interface-and-ifindex"),
    pytest.param({"interface": "xe-9/9/9", "device": 999_999}, "device", "", id="unknown-device"),
]


@pytest.mark.parametrize(("bad", "field", "message"), BAD_MEMBERS)
def test_line_add_with_a_bad_member_saves_nothing_and_shows_the_error_on_that_row(login, inv, bad, field, message):
    client = login("engineer")
    before = ObjectChange.objects.count()
    data = _new_line(inv) | _management("members", [_member(inv, interface="xe-1/0/0"), _member(inv, **bad)])
    response = client.post("/inventory/lines/add/", data)
    assert response.status_code == 200
    assert not Line.objects.filter(name="LINE-NEW").exists()
    assert not LineMember.objects.filter(interface="xe-1/0/0").exists()
    assert ObjectChange.objects.count() == before
    [formset] = response.context["formsets"]
    assert not formset.forms[0].errors
    errors = formset.forms[1].errors
    assert field in errors and message in " ".join(errors[field])
    html = response.content.decode()
    assert 'value="LINE-NEW"' in html and 'value="xe-1/0/0"' in html  # what the user typed is kept
    assert response.context["form"].instance.pk is None and "Add line" in html


def test_line_edit_removes_one_member_adds_another_and_logs_both(login, inv):
    client = login("engineer")
    line = inv["lines"][0]
    old = line.members.get()
    data = _new_line(inv, name=line.name) | {"circuit_id": line.circuit_id, "carrier": line.carrier_id,
                                              "site": line.site_id, "department": line.department_id,
                                              "capacity_bps": line.capacity_bps, "type": line.type,
                                              "status": line.status}
    rows = [_member(inv, id=old.pk, line=line.pk, interface=old.interface, DELETE="on"),
            _member(inv, interface="xe-2/0/0", role="primary")]
    response = client.post(f"/inventory/lines/{line.pk}/edit/", data | _management("members", rows, initial=1))
    assert response.status_code == 302
    assert list(line.members.values_list("interface", "role")) == [("xe-2/0/0", "primary")]
    assert [c.object_repr for c in _changes("linemember", "delete")] == [str(old)]
    assert len(_changes("linemember", "create")) == 1


def test_moving_a_port_between_rows_of_one_line_is_not_a_conflict(login, inv):
    """Deletions are saved first: a port removed from one row is free for a new row of the same save."""
    client = login("engineer")
    line = inv["lines"][0]
    old = line.members.get()
    data = {k: getattr(line, k) if not k.endswith(("carrier", "site", "department")) else getattr(line, f"{k}_id")
            for k in ("name", "circuit_id", "carrier", "site", "department", "capacity_bps", "type", "status")}
    rows = [_member(inv, id=old.pk, line=line.pk, interface=old.interface, DELETE="on"),
            _member(inv, interface=old.interface, role="primary")]
    response = client.post(f"/inventory/lines/{line.pk}/edit/", data | _management("members", rows, initial=1))
    assert response.status_code == 302
    assert list(line.members.values_list("interface", "role")) == [(old.interface, "primary")]


def test_line_edit_with_a_bad_member_keeps_the_line_and_its_members_unchanged(login, inv):
    client = login("engineer")
    line = inv["lines"][0]
    old = line.members.get()
    data = _new_line(inv, name=line.name) | {"circuit_id": line.circuit_id, "capacity_bps": 1_000_000}
    rows = [_member(inv, id=old.pk, line=line.pk, interface=old.interface, DELETE="on"),
            _member(inv, interface="ge-0/0/2")]  # LINE-002's port
    response = client.post(f"/inventory/lines/{line.pk}/edit/", data | _management("members", rows, initial=1))
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.capacity_bps == 10_000_000 and list(line.members.all()) == [old]
    assert "already carries line LINE-002" in response.content.decode()


def test_noc_line_form_has_no_member_rows_and_posted_member_rows_are_ignored(login, inv):
    client = login("noc")
    line = inv["lines"][0]
    page = client.get(f"/inventory/lines/{line.pk}/edit/")
    assert page.context["formsets"] == [] and "members-TOTAL_FORMS" not in page.content.decode()
    rows = [_member(inv, interface="xe-5/5/5")]
    response = client.post(f"/inventory/lines/{line.pk}/edit/", {"status": "offline"} | _management("members", rows))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == "offline" and not LineMember.objects.filter(interface="xe-5/5/5").exists()


def test_add_a_row_answers_the_next_empty_row_and_raises_the_row_count(login, inv):
    response = login("engineer").get("/inventory/rows/members/", {"members-TOTAL_FORMS": 3})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="members-3-device"' in html and 'name="members-3-interface"' in html and "members-2-" not in html
    assert re.search(r'<input type="hidden" name="members-TOTAL_FORMS" value="4" id="id_members-TOTAL_FORMS" '
                     r'hx-swap-oob="true">', html)


def test_a_row_added_through_the_endpoint_is_saved_with_the_line(login, inv):
    """The row the endpoint renders has exactly the names the save expects (two members, one form)."""
    client = login("engineer")
    page = client.get("/inventory/lines/add/").content.decode()
    extra = client.get("/inventory/rows/members/", {"members-TOTAL_FORMS": 1}).content.decode()
    names = set(re.findall(r'name="(members-\d+-\w+)"', page + extra))
    assert {"members-0-interface", "members-1-interface", "members-1-device", "members-1-role"} <= names
    data = _new_line(inv) | _management("members", [_member(inv, interface="xe-3/0/0"),
                                                     _member(inv, interface="xe-3/0/1")])
    assert client.post("/inventory/lines/add/", data).status_code == 302
    assert Line.objects.get(name="LINE-NEW").members.count() == 2


ROW_ERRORS = [
    pytest.param("engineer", "/inventory/rows/nosuch/", {"nosuch-TOTAL_FORMS": 1}, 404, id="unknown-table"),
    pytest.param("engineer", "/inventory/rows/members/", {}, 400, id="no-row-count"),
    pytest.param("engineer", "/inventory/rows/members/", {"members-TOTAL_FORMS": "x"}, 400, id="bad-row-count"),
    pytest.param("engineer", "/inventory/rows/members/", {"members-TOTAL_FORMS": 1000}, 400, id="too-many-rows"),
    pytest.param("noc", "/inventory/rows/members/", {"members-TOTAL_FORMS": 1}, 403, id="noc-may-not-add-members"),
    pytest.param("engineer", "/inventory/rows/contacts/", {"contacts-TOTAL_FORMS": 1}, 403,
                 id="engineer-may-not-add-contacts"),
]


@pytest.mark.parametrize(("role", "url", "params", "status"), ROW_ERRORS)
def test_add_a_row_refuses_what_the_save_would(login, inv, role, url, params, status):
    assert login(role).get(url, params).status_code == status


# --- one NOC rule: the line form's fields are the API's ---------------------------------------------------------

_CHANGED = {"name": "LINE-RENAMED", "circuit_id": "CID-RENAMED", "type": "internet", "status": "offline",
            "capacity_bps": 1_000_000, "install_date": "2026-01-01", "termination_date": "2036-01-01",
            "description": "changed", "cost_centre": None, "channels": 20, "rate_plan": "obs-sip-fr"}
ROLES = ["viewer", "noc", "engineer", "finance", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_line_form_and_api_let_each_role_change_the_same_fields(login, inv, role):
    from web.inventory.forms import LINE_FORM_FIELDS

    client = login(role)
    line = inv["lines"][1]
    account = BillingAccount.objects.create(carrier=line.carrier, number="ACC-1")
    changed = _CHANGED | {"carrier": inv["carriers"][0].pk, "site": inv["sites"][0].pk,
                          "department": inv["departments"][1].pk, "billing_account": account.pk}
    api = set()
    for field in LINE_FORM_FIELDS:
        response = client.patch(f"/api/inventory/lines/{line.pk}/", {field: changed[field]},
                                content_type="application/json")
        if response.status_code != 403:
            api.add(field)
    page = client.get(f"/inventory/lines/{line.pk}/edit/")
    ui = set(page.context["form"].fields) if page.status_code == 200 else set()
    assert ui == api
    assert ui == {"viewer": set(), "finance": set(), "noc": {"status"}}.get(role, set(LINE_FORM_FIELDS))


def test_line_form_follows_the_permission_modules_change_only_fields(login, inv, monkeypatch):
    """The UI reads the rule from web/accounts/permissions.py (it had its own copy): widening it there widens
    the form."""
    from web.accounts import permissions

    monkeypatch.setitem(permissions.CHANGE_ONLY_FIELDS, "inventory.line", ("status", "description"))
    page = login("noc").get(f"/inventory/lines/{inv['lines'][0].pk}/edit/")
    assert set(page.context["form"].fields) == {"status", "description"}


# --- carrier, site, device, contract pages ----------------------------------------------------------------------


@pytest.fixture
def carrier_page(inv):
    carrier = inv["carriers"][0]  # Telia: LINE-000, 002, 004
    carrier.portal_url = "https://portal.telia.example/"
    carrier.save()
    BillingAccount.objects.create(carrier=carrier, number="ACC-9", name="Main")
    Contact.objects.create(carrier=carrier, role=ContactRole.NOC, name="Noc Desk", email="noc@telia.example",
                           phone="+49 69 1234")
    Contact.objects.create(carrier=carrier, role=ContactRole.ESCALATION, name="Duty Manager",
                           phone="+49 69 9999", escalation_level=2)
    Contact.objects.create(carrier=carrier, role=ContactRole.BILLING, name="Invoices", email="bill@telia.example")
    lines = {line.name: line for line in inv["lines"]}
    Contract.objects.create(line=lines["LINE-000"], mrc=Decimal("1000.50"))
    Contract.objects.create(line=lines["LINE-002"], mrc=Decimal(200), currency="EUR")
    Contract.objects.create(line=lines["LINE-004"], mrc=Decimal(5))
    Contract.objects.create(line=lines["LINE-001"], mrc=Decimal(777))  # Colt's: not on Telia's page
    return carrier


def test_carrier_page_shows_portal_accounts_contacts_by_role_contracts_and_lines(login, carrier_page):
    html = login("viewer").get(carrier_page.get_absolute_url()).content.decode()
    assert '<a href="https://portal.telia.example/" rel="noopener noreferrer"' in html
    assert "ACC-9" in html and "Main" in html
    assert '<a href="mailto:noc@telia.example">' in html and '<a href="tel:+49691234">' in html
    main = html[html.index("<main"):]  # the navigation links to the invoices too
    assert main.index("Noc Desk") < main.index("Invoices") < main.index("Duty Manager")  # NOC, billing, escalation
    assert re.findall(r'class="mrc-total">([^<]*)<', html) == ["1,205.50 EUR"]  # LINE-004 is not decommissioned
    assert "LINE-000" in html and "LINE-004" in html and "LINE-001" not in html and "777" not in html
    assert re.findall(r'class="status-(\w+)">(\d+)<', html) == [
        ("planned", "1"), ("provisioning", "0"), ("active", "1"), ("offline", "0"), ("deprovisioning", "1"),
        ("decommissioned", "0")]


def test_carrier_mrc_totals_are_per_currency_and_leave_out_decommissioned_lines(login, inv):
    colt = inv["carriers"][1]  # LINE-001 (provisioning), 003 (offline), 005 (decommissioned)
    lines = {line.name: line for line in inv["lines"]}
    Contract.objects.create(line=lines["LINE-001"], mrc=Decimal(100))
    Contract.objects.create(line=lines["LINE-003"], mrc=Decimal(30), currency="EUR")
    Contract.objects.create(line=lines["LINE-005"], mrc=Decimal(999))
    html = login("finance").get(colt.get_absolute_url()).content.decode()
    assert re.findall(r'class="mrc-total">([^<]*)<', html) == ["130.00 EUR"]
    usd = Carrier.objects.create(name="Lumen", currency="USD")
    line = Line.objects.create(name="LINE-USD", carrier=usd, circuit_id="U1", type="internet", site=inv["sites"][0],
                               department=inv["departments"][0], capacity_bps=1)
    Contract.objects.create(line=line, mrc=Decimal(10))
    html = login("finance").get(usd.get_absolute_url()).content.decode()
    assert re.findall(r'class="mrc-total">([^<]*)<', html) == ["10.00 USD"]


def test_site_page_lists_its_devices_and_lines(login, inv):
    html = login("viewer").get(inv["sites"][0].get_absolute_url()).content.decode()
    assert f'href="/inventory/lines/?site={inv["sites"][0].pk}"' in html
    assert f'href="{inv["device"].get_absolute_url()}"' in html
    assert "LINE-000" in html and "LINE-002" in html and "LINE-001" not in html


@pytest.fixture
def v3_device(inv):
    return Device.objects.create(name="seo-core-1", address="192.0.2.9", port=1161, snmp_version="3",
                                 snmp_user="lwuser", security_level="authPriv", auth_protocol="SHA",
                                 auth_key="auth-key-s3cret", priv_protocol="AES-128", priv_key="priv-key-s3cret",
                                 site=inv["sites"][1])


def _stored(device: Device, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM inventory_device WHERE id = %s", [device.pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("page", ["detail", "edit"])
def test_device_pages_never_show_a_secret_or_its_ciphertext(login, inv, v3_device, page):
    client = login("admin")
    url = v3_device.get_absolute_url() + ("edit/" if page == "edit" else "")
    html = client.get(url).content.decode()
    assert "lwuser" in html and "authPriv" in html
    for name in Device.secret_fields:
        value = getattr(v3_device, name)
        if value:
            assert value not in html
            assert _stored(v3_device, name) not in html and _stored(v3_device, name)[:16] not in html
    v2 = inv["device"]
    html = client.get(v2.get_absolute_url() + ("edit/" if page == "edit" else "")).content.decode()
    assert "s3cret-community" not in html and _stored(v2, "snmp_community")[:16] not in html


def test_device_page_lists_its_interfaces_with_their_lines(login, inv, v3_device):
    LineMember.objects.create(line=inv["lines"][1], device=v3_device, if_index=17, role="backup")
    html = login("viewer").get(v3_device.get_absolute_url()).content.decode()
    assert html.count('class="member"') == 1 and "ifIndex:17" in html
    assert f'href="{inv["lines"][1].get_absolute_url()}"' in html
    assert "192.0.2.9" in html and "1161" in html


def test_device_page_renders_with_no_data_when_influxdb_is_unreachable(login, inv, settings, free_port):
    from linewatch.influx import InfluxSettings

    settings.LINEWATCH = settings.LINEWATCH.model_copy(
        update={"influx": InfluxSettings(url=f"http://127.0.0.1:{free_port}", database="linewatch")})
    response = login("viewer").get(inv["device"].get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200 and "InfluxDB did not answer" in html and "ge-0/0/0" in html


@pytest.mark.slow
def test_device_page_shows_the_newest_poll_of_each_collector(login, inv, settings, influx_db):
    from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points

    url, dbname = influx_db
    influx = InfluxSettings(url=url, database=dbname)
    t0 = 1_790_000_000
    points = [Point("collector_poll", {"device": "fra-edge-1", "collector": "c1"},
                    {"ok": 1, "duration_s": 0.25, "varbinds": 40, "lines": 6, "error": ""}, (t0 - 60) * 10**9),
              Point("collector_poll", {"device": "fra-edge-1", "collector": "c1"},
                    {"ok": 0, "duration_s": 2.0, "varbinds": 0, "lines": 0, "error": "timeout after 2.0 s"},
                    t0 * 10**9),
              Point("collector_poll", {"device": "fra-edge-1", "collector": "c2"},
                    {"ok": 1, "duration_s": 0.5, "varbinds": 40, "lines": 6, "error": ""}, (t0 - 30) * 10**9),
              Point("collector_poll", {"device": "other", "collector": "c1"},
                    {"ok": 1, "duration_s": 9.0, "varbinds": 1, "lines": 1, "error": "not this one"}, t0 * 10**9)]
    with InfluxClient(influx) as client:
        client.write(encode_points(points))
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": influx})
    response = login("viewer").get(inv["device"].get_absolute_url())
    polls = response.context["polls"]
    assert polls.error is None
    assert [(p.collector, p.ok, p.time_s, p.error) for p in polls.polls] == [
        ("c1", False, t0, "timeout after 2.0 s"), ("c2", True, t0 - 30, "")]
    html = response.content.decode()
    assert html.count('class="poll"') == 2 and "not this one" not in html


@pytest.fixture
def contract(inv):
    c = Contract.objects.create(line=inv["lines"][0], mrc=Decimal(1000), billing_model="burstable_95th",
                                direction="in", price_per_mbps=Decimal("2.5"), sla_target_pct=Decimal("99.9"),
                                term_start=dt.date(2025, 1, 1), term_months=12, auto_renew=True, renewal_months=12,
                                notice_days=60)
    Discount.objects.create(contract=c, name="Launch offer", percent=Decimal(10), valid_from=dt.date(2020, 1, 1),
                            valid_to=dt.date(2099, 12, 31))
    CreditTier.objects.create(contract=c, below_pct=Decimal("99.5"), credit_pct=Decimal(5))
    return c


def test_contract_page_shows_every_term_its_line_and_carrier(login, inv, contract):
    response = login("viewer").get(contract.get_absolute_url())
    html = response.content.decode()
    line = inv["lines"][0]
    assert f'href="{line.get_absolute_url()}"' in html and f'href="{line.carrier.get_absolute_url()}"' in html
    assert re.search(r'class="mrc">1,000.00 EUR<', html) and re.search(r'class="mrc-today">900.00 EUR<', html)
    assert "2.5" in html and "Inbound" in html and "99.9" in html and "Launch offer" in html
    assert html.count('class="tier"') == 1 and html.count('class="discount"') == 1
    end = response.context["term_end"]
    assert end >= dt.date.today() and end.month == 12 and end.day == 31  # renewed yearly from 2025-01-01
    assert response.context["notice_by"] == end - dt.timedelta(days=60)


def test_line_page_links_to_its_contract_page(login, inv, contract):
    html = login("viewer").get(inv["lines"][0].get_absolute_url()).content.decode()
    assert f'href="{contract.get_absolute_url()}"' in html


# --- lists ------------------------------------------------------------------------------------------------------

LISTS = [
    pytest.param("/inventory/carriers/", {"q": "tel"}, ["Telia"], id="carriers-search-name"),
    pytest.param("/inventory/carriers/", {"q": "ACC-7"}, ["Colt"], id="carriers-search-account"),
    pytest.param("/inventory/carriers/", {}, ["Colt", "Telia"], id="carriers-all"),
    pytest.param("/inventory/sites/", {"q": "seo"}, ["Seoul"], id="sites-search"),
    pytest.param("/inventory/sites/", {"q": "Main street"}, ["Frankfurt"], id="sites-search-address"),
    pytest.param("/inventory/devices/", {"q": "fra"}, ["fra-edge-1"], id="devices-search-name"),
    pytest.param("/inventory/devices/", {"q": "Frankfurt"}, ["fra-edge-1"], id="devices-search-site"),
    pytest.param("/inventory/devices/", {"q": "nothing-like-it"}, [], id="devices-no-match"),
]


@pytest.mark.parametrize(("url", "params", "names"), LISTS)
def test_list_pages_search(login, inv, url, params, names):
    BillingAccount.objects.create(carrier=inv["carriers"][1], number="ACC-7")
    Contact.objects.create(carrier=inv["carriers"][1], role="noc", name="Colt NOC", email="a@b.example")
    Contact.objects.create(carrier=inv["carriers"][1], role="sales", name="Colt sales", email="c@b.example")
    Site.objects.filter(pk=inv["sites"][0].pk).update(address="1 Main street")
    response = login("viewer").get(url, params)
    assert response.status_code == 200
    assert [str(o) for o in response.context["page_obj"]] == names


def test_list_page_counts_are_not_multiplied_by_the_search_joins(login, inv):
    for n in range(3):
        Contact.objects.create(carrier=inv["carriers"][0], role="noc", name=f"Telia {n}", email="x@y.example")
    page = login("viewer").get("/inventory/carriers/", {"q": "telia"})
    assert [(c.name, c.line_count) for c in page.context["page_obj"]] == [("Telia", 3)]


def test_list_pages_paginate_and_keep_the_search(login, inv, monkeypatch):
    from web.inventory.views import SiteListView

    for n in range(5):
        Site.objects.create(name=f"Busan {n}")
    monkeypatch.setattr(SiteListView, "paginate_by", 2)
    client = login("viewer")
    first = client.get("/inventory/sites/", {"q": "busan"})
    assert [s.name for s in first.context["page_obj"]] == ["Busan 0", "Busan 1"]
    assert b"q=busan&amp;page=2" in first.content
    third = client.get("/inventory/sites/", {"q": "busan", "page": 3})
    assert [s.name for s in third.context["page_obj"]] == ["Busan 4"]


def _queries(client: Client, url: str) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/inventory/carriers/", "/inventory/sites/", "/inventory/devices/",
                                 "/inventory/carriers/{carrier}/", "/inventory/sites/{site}/",
                                 "/inventory/devices/{device}/"])
def test_list_and_detail_pages_take_as_many_queries_for_many_rows_as_for_few(login, inv, url, settings):
    from linewatch.influx import InfluxSettings

    settings.LINEWATCH = settings.LINEWATCH.model_copy(  # no InfluxDB: the device page's poll is "no data"
        update={"influx": InfluxSettings(url="http://127.0.0.1:9", database="linewatch", timeout_s=1)})
    client = login("viewer")
    url = url.format(carrier=inv["carriers"][0].pk, site=inv["sites"][0].pk, device=inv["device"].pk)
    few = _queries(client, url)
    carrier, site, device = inv["carriers"][0], inv["sites"][0], inv["device"]
    for n in range(20):
        Carrier.objects.create(name=f"Carrier {n}")
        Site.objects.create(name=f"Site {n}")
        Device.objects.create(name=f"dev-{n}", address="192.0.2.1", snmp_version="2c", site=site)
        line = Line.objects.create(name=f"MANY-{n}", carrier=carrier, circuit_id=f"M{n}", type="internet",
                                   site=site, department=inv["departments"][0], capacity_bps=1)
        LineMember.objects.create(line=line, device=device, interface=f"many-{n}")
        Contract.objects.create(line=line, mrc=Decimal(n))
        Contact.objects.create(carrier=carrier, role="noc", name=f"c{n}", email="n@x.example")
    assert _queries(client, url) == few


def test_add_line_from_a_carrier_page_preselects_the_carrier(login, inv):
    form = login("engineer").get("/inventory/lines/add/", {"carrier": inv["carriers"][1].pk}).context["form"]
    assert str(form["carrier"].value()) == str(inv["carriers"][1].pk)


# --- add and edit forms -----------------------------------------------------------------------------------------


def test_carrier_add_with_accounts_and_contacts(login):
    data = {"name": "KT", "currency": "KRW", "portal_url": "https://portal.kt.example/"} | _management(
        "accounts", [{"number": "KT-001", "name": "HQ"}]) | _management(
        "contacts", [{"role": "noc", "name": "KT NOC", "phone": "+82 2 100"},
                     {"role": "escalation", "name": "KT duty", "email": "duty@kt.example", "escalation_level": 1}])
    response = login("finance").post("/inventory/carriers/add/", data)
    carrier = Carrier.objects.get(name="KT")
    assert response.status_code == 302 and response["Location"] == carrier.get_absolute_url()
    assert list(carrier.billing_accounts.values_list("number", flat=True)) == ["KT-001"]
    assert carrier.contacts.count() == 2


CARRIER_ERRORS = [
    pytest.param({"portal_url": "https://user:pw@portal.example/"}, None, "portal_url", id="portal-with-password"),
    pytest.param({"currency": "EURO"}, None, "currency", id="bad-currency"),
    pytest.param({}, ("contacts", 0, {"role": "escalation", "name": "X", "phone": "1"}), "escalation_level",
                 id="escalation-contact-without-level"),
    pytest.param({}, ("contacts", 0, {"role": "noc", "name": "X"}), "email", id="contact-without-email-or-phone"),
]


@pytest.mark.parametrize(("carrier", "row", "field"), CARRIER_ERRORS)
def test_carrier_add_with_a_bad_value_saves_nothing_and_names_the_field(login, carrier, row, field):
    contacts = [row[2]] if row else []
    data = ({"name": "KT", "currency": "KRW"} | carrier | _management("accounts", [{"number": "KT-1"}])
            | _management("contacts", contacts))
    response = login("finance").post("/inventory/carriers/add/", data)
    assert response.status_code == 200
    assert not Carrier.objects.filter(name="KT").exists() and not BillingAccount.objects.filter(number="KT-1").exists()
    if row is None:
        assert field in response.context["form"].errors
    else:
        formset = next(fs for fs in response.context["formsets"] if fs.prefix == row[0])
        assert field in formset.forms[row[1]].errors


def test_deleting_a_billing_account_still_used_by_a_line_saves_nothing_and_names_the_line(login, inv):
    carrier = inv["carriers"][0]
    account = BillingAccount.objects.create(carrier=carrier, number="ACC-USED")
    Line.objects.filter(pk=inv["lines"][0].pk).update(billing_account=account)
    data = {"name": "Telia renamed", "currency": "EUR"} | _management(
        "accounts", [{"id": account.pk, "carrier": carrier.pk, "number": "ACC-USED", "DELETE": "on"}], initial=1) | (
        _management("contacts", []))
    response = login("finance").post(f"/inventory/carriers/{carrier.pk}/edit/", data)
    assert response.status_code == 200
    carrier.refresh_from_db()
    assert carrier.name == "Telia" and BillingAccount.objects.filter(pk=account.pk).exists()
    [row] = next(fs for fs in response.context["formsets"] if fs.prefix == "accounts").forms
    assert "still used by LINE-000" in " ".join(row.non_field_errors())


def test_device_add_and_edit_keep_secrets_write_only(login, inv):
    client = login("engineer")
    data = {"name": "icn-edge-1", "address": "192.0.2.20", "port": 161, "snmp_version": "2c",
            "snmp_community": "brand-new-secret", "timeout_s": 2.0, "retries": 1, "site": inv["sites"][1].pk}
    response = client.post("/inventory/devices/add/", data)
    device = Device.objects.get(name="icn-edge-1")
    assert response.status_code == 302 and device.snmp_community == "brand-new-secret"
    response = client.post(f"/inventory/devices/{device.pk}/edit/", data | {"snmp_community": "", "retries": 3})
    device.refresh_from_db()
    assert response.status_code == 302 and device.retries == 3 and device.snmp_community == "brand-new-secret"
    assert "brand-new-secret" not in client.get(f"/inventory/devices/{device.pk}/edit/").content.decode()


DEVICE_ERRORS = [
    pytest.param({"snmp_version": "3", "snmp_community": "", "snmp_user": "u", "security_level": "authPriv",
                  "auth_protocol": "SHA", "auth_key": "k" * 12}, "security_level", id="v3-authpriv-without-privacy-key"),
    pytest.param({"port": 70000}, "port", id="port-out-of-range"),
    pytest.param({"snmp_version": ""}, "snmp_version", id="no-snmp-version"),
]


@pytest.mark.parametrize(("bad", "field"), DEVICE_ERRORS)
def test_device_add_with_a_bad_value_saves_nothing_and_names_the_field(login, inv, bad, field):
    data = {"name": "icn-edge-2", "address": "192.0.2.21", "port": 161, "snmp_version": "2c",
            "snmp_community": "c", "timeout_s": 2.0, "retries": 1} | bad
    response = login("engineer").post("/inventory/devices/add/", data)
    assert response.status_code == 200 and not Device.objects.filter(name="icn-edge-2").exists()
    assert field in response.context["form"].errors
    assert 'value="192.0.2.21"' in response.content.decode()


def test_site_edit_saves_and_is_change_logged(login, inv):
    site = inv["sites"][1]
    response = login("engineer").post(f"/inventory/sites/{site.pk}/edit/", {"name": "Seoul", "code": "ICN",
                                                                             "address": "Gangnam-gu"})
    site.refresh_from_db()
    assert response.status_code == 302 and site.code == "ICN"
    assert _changes("site", "update")[0].diff["code"] == ["", "ICN"]


def test_contract_add_with_an_sla_target_and_its_tiers_in_one_form(login, inv):
    line = inv["lines"][2]
    data = {"line": line.pk, "mrc": "500", "billing_model": "flat", "direction": "max", "gb_unit": "decimal",
            "proration": "actual_days", "sla_target_pct": "99.9", "sla_cap_pct": "100", "renewal_months": 12,
            "notice_days": 90} | _management("discounts", [{"name": "Promo", "amount": "50"}]) | _management(
        "tiers", [{"below_pct": "99.5", "credit_pct": "10"}])
    response = login("finance").post(f"/inventory/contracts/add/?line={line.pk}", data)
    assert response.status_code == 302, (response.context["form"].errors, [fs.errors for fs in response.context["formsets"]])
    contract = Contract.objects.get(line=line)
    assert response.status_code == 302 and response["Location"] == contract.get_absolute_url()
    assert contract.discounts.get().amount == Decimal(50) and contract.credit_tiers.count() == 1


def test_contract_with_a_tier_above_its_sla_target_saves_nothing(login, inv):
    """A tier is checked against the target given in the same form (the contract's rules over its tiers)."""
    line = inv["lines"][2]
    data = {"line": line.pk, "mrc": "500", "billing_model": "flat", "direction": "max", "gb_unit": "decimal",
            "proration": "actual_days", "sla_target_pct": "99.0", "sla_cap_pct": "100", "renewal_months": 12,
            "notice_days": 90} | _management("discounts", []) | _management(
        "tiers", [{"below_pct": "99.5", "credit_pct": "10"}])
    response = login("finance").post("/inventory/contracts/add/", data)
    assert response.status_code == 200 and not Contract.objects.filter(line=line).exists()
    tiers = next(fs for fs in response.context["formsets"] if fs.prefix == "tiers")
    assert tiers.forms[0].errors or response.context["form"].errors


def test_pages_in_korean(login, inv, contract, v3_device):
    client = login("admin")
    client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    pages = {"/inventory/carriers/": "통신사", contract.get_absolute_url(): "월 기본요금",
             v3_device.get_absolute_url(): "마지막 수집", f"/inventory/lines/{inv['lines'][0].pk}/edit/": "인터페이스"}
    for url, text in pages.items():
        assert text in client.get(url).content.decode(), url


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_statuses_cover_every_line_status(login, inv):
    page = login("viewer").get(inv["carriers"][0].get_absolute_url())
    assert [s for s, _label, _n in page.context["status_counts"]] == [s.value for s in LineStatus]
