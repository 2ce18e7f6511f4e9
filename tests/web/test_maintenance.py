"""Planned maintenance and capacity versions on the pages: the maintenance list (active, upcoming, past), the
add/edit form (lines of the chosen carrier, times in the user's time zone), the detail page, the line page's
capacity now, history and windows, the contract page's term changes, the line list's capacity now; in English and
Korean. The API's ``/api/inventory/maintenance/`` keeps the same rules."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pydantic import SecretStr

from linewatch.choices import Role, TokenScope
from linewatch.inventory import Inventory
from web.accounts.tokens import Token
from web.audit.context import change_context
from web.inventory.models import CapacityChange, Contract, ContractChange, PlannedMaintenance

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def inv(make_inventory: Any) -> dict[str, Any]:
    return make_inventory(4)


@pytest.fixture
def windows(inv: dict[str, Any]) -> dict[str, PlannedMaintenance]:
    """One past, one active and one upcoming window, each on the first line (carrier Telia)."""
    now = timezone.now()
    line = inv["lines"][0]
    made = {}
    for name, starts in (("past", now - 30 * HOUR), ("active", now - HOUR), ("upcoming", now + 2 * HOUR)):
        window = PlannedMaintenance.objects.create(carrier=line.carrier, starts=starts, ends=starts + 4 * HOUR,
                                                   carrier_reference=f"DT-CHG-{name}")
        window.lines.set([line])
        made[name] = window
    return made


def _login(client: Client, user_with_role: Any, role: str) -> Client:
    client.force_login(user_with_role(role))
    return client


WHEN_CASES = [("", {"active", "upcoming"}), ("active", {"active"}), ("upcoming", {"upcoming"}),
              ("past", {"past"}), ("all", {"past", "active", "upcoming"})]


@pytest.mark.parametrize(("when", "shown"), WHEN_CASES, ids=[w or "default" for w, _ in WHEN_CASES])
def test_maintenance_list_filters_by_when(client, user_with_role, windows, when, shown):
    _login(client, user_with_role, "viewer")
    body = client.get("/inventory/maintenance/", {"when": when} if when else {}).content.decode()
    assert {name for name in windows if f"DT-CHG-{name}" in body} == shown


@pytest.mark.parametrize(("language", "texts"), [
    ("en", ["Planned maintenance", "Active and upcoming", "active"]),
    ("ko", ["계획 작업", "진행 중 및 예정", "진행 중"]),
])
def test_maintenance_pages_render_in_english_and_korean(client, user_with_role, windows, language, texts):
    _login(client, user_with_role, "noc")
    window = windows["active"]
    pages = ["/inventory/maintenance/", f"/inventory/maintenance/{window.pk}/",
             f"/inventory/maintenance/{window.pk}/edit/", "/inventory/maintenance/add/"]
    for page in pages:
        response = client.get(page, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, page
    body = client.get(pages[1], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert "DT-CHG-active" in body and window.key in body
    listing = client.get(pages[0], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in texts:
        assert text in listing, text


def test_noc_adds_a_window_in_its_time_zone_and_it_is_change_logged(client, user_with_role, inv, settings):
    from web.audit.models import ObjectChange

    settings.TIME_ZONE = "Asia/Seoul"
    _login(client, user_with_role, "noc")
    line = inv["lines"][0]
    response = client.post("/inventory/maintenance/add/", {
        "carrier": line.carrier.pk, "lines": [line.pk], "starts": "2026-12-03T01:00", "ends": "2026-12-03T05:00",
        "carrier_reference": "DT-CHG-99812", "description": "fibre work"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    window = PlannedMaintenance.objects.get()
    kst = dt.timezone(dt.timedelta(hours=9))
    assert window.starts == dt.datetime(2026, 12, 3, 1, tzinfo=kst)
    assert list(window.lines.all()) == [line]
    assert ObjectChange.objects.filter(object_repr=str(window)).exists()
    page = client.get(window.get_absolute_url()).content.decode()
    assert "Asia/Seoul" in page


def test_window_form_refuses_a_line_of_another_carrier_on_lines(client, user_with_role, inv):
    _login(client, user_with_role, "noc")
    mine, theirs = inv["lines"][0], inv["lines"][1]
    assert mine.carrier != theirs.carrier
    response = client.post("/inventory/maintenance/add/", {
        "carrier": mine.carrier.pk, "lines": [theirs.pk], "starts": "2026-12-03T01:00",
        "ends": "2026-12-03T05:00"})
    assert response.status_code == 200
    assert response.context["form"].errors["lines"]
    assert not PlannedMaintenance.objects.exists()


def test_window_form_refuses_an_end_before_the_start_on_ends(client, user_with_role, inv):
    _login(client, user_with_role, "engineer")
    line = inv["lines"][0]
    response = client.post("/inventory/maintenance/add/", {
        "carrier": line.carrier.pk, "lines": [line.pk], "starts": "2026-12-03T05:00", "ends": "2026-12-03T01:00"})
    assert "is not after starts" in " ".join(response.context["form"].errors["ends"])


def test_lines_options_follow_the_carrier(client, user_with_role, inv):
    _login(client, user_with_role, "noc")
    carrier = inv["carriers"][0]
    body = client.get("/inventory/maintenance/lines/", {"carrier": carrier.pk}).content.decode()
    names = set(re.findall(r">([A-Z]+-\d+)</option>", body))
    assert names == {line.name for line in inv["lines"] if line.carrier == carrier}
    _login(client, user_with_role, "viewer")
    assert client.get("/inventory/maintenance/lines/", {"carrier": carrier.pk}).status_code == 403


def test_line_page_shows_capacity_now_its_history_and_upcoming_windows(client, user_with_role, inv, windows):
    line = inv["lines"][0]
    with change_context(user_name="kim"):
        CapacityChange.objects.create(line=line, effective=timezone.now() - HOUR, capacity_bps=200_000_000)
        CapacityChange.objects.create(line=line, effective=timezone.now() + 24 * HOUR, capacity_bps=300_000_000)
    _login(client, user_with_role, "viewer")
    body = client.get(f"/inventory/lines/{line.pk}/").content.decode()
    assert re.search(r'class="capacity-now">200 Mbit/s', body)
    history = body[body.index('class="capacity-history"'):]
    assert history.count('class="capacity-version') == 3 and "kim" in history
    assert "DT-CHG-active" in body and "DT-CHG-upcoming" in body and "DT-CHG-past" not in body
    listing = client.get("/inventory/lines/", {"q": line.name}).content.decode()
    assert "<td>200</td>" in listing  # the list's capacity (Mbit/s) is the capacity now


def test_contract_page_shows_term_changes_and_the_early_termination_fee(client, user_with_role, inv):
    contract = Contract.objects.create(line=inv["lines"][0], mrc=Decimal(500), term_start=dt.date(2025, 1, 1),
                                       term_months=24, early_termination_pct=Decimal(50))
    ContractChange.objects.create(contract=contract, effective=dt.date(2026, 11, 16), mrc=Decimal(800))
    _login(client, user_with_role, "viewer")
    body = client.get(f"/inventory/contracts/{contract.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert 'class="early-termination-pct">50<' in body
    assert body.count('class="term-change"') == 1 and "800" in body


def test_line_form_saves_a_capacity_change_row_and_a_post_without_the_table_keeps_them(client, user_with_role, inv):
    line = inv["lines"][0]
    _login(client, user_with_role, "engineer")
    data = {"name": line.name, "carrier": line.carrier_id, "circuit_id": line.circuit_id, "type": line.type,
            "status": line.status, "site": line.site_id, "department": line.department_id,
            "capacity_bps": line.capacity_bps, "description": "",
            "capacity_changes-TOTAL_FORMS": 1, "capacity_changes-INITIAL_FORMS": 0,
            "capacity_changes-0-effective": "2027-01-01T00:00", "capacity_changes-0-capacity_bps": "250000000"}
    response = client.post(f"/inventory/lines/{line.pk}/edit/", data)
    assert response.status_code == 302, [f.errors for f in response.context["formsets"]]
    assert [c.capacity_bps for c in line.capacity_changes.all()] == [250_000_000]
    data = {k: v for k, v in data.items() if not k.startswith("capacity_changes")} | {"description": "x"}
    assert client.post(f"/inventory/lines/{line.pk}/edit/", data).status_code == 302
    assert line.capacity_changes.count() == 1


def test_noc_may_not_edit_capacity_changes_on_the_line_form(client, user_with_role, inv):
    _login(client, user_with_role, "noc")
    formsets = client.get(f"/inventory/lines/{inv['lines'][0].pk}/edit/").context["formsets"]
    assert "capacity_changes" not in {fs.prefix for fs in formsets}


# -- the API ---------------------------------------------------------------------------------------------------


def _api(user_with_role: Any, role: str) -> Client:
    _, key = Token.create(user=user_with_role(role), name="t", scope=TokenScope.WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_api_window_needs_lines_of_its_carrier(user_with_role, inv):
    api = _api(user_with_role, Role.NOC.value)
    payload = {"carrier": inv["carriers"][0].pk, "starts": "2026-12-03T01:00:00+09:00",
               "ends": "2026-12-03T05:00:00+09:00", "carrier_reference": "DT-CHG-1"}
    for lines, field in (([], "lines"), ([inv["lines"][1].pk], "lines")):
        response = api.post("/api/inventory/maintenance/", payload | {"lines": lines}, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), response.content
    response = api.post("/api/inventory/maintenance/", payload | {"lines": [inv["lines"][0].pk]},
                        content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["key"] == f"MW-{response.json()['id']}"
    bad = api.patch(f"/api/inventory/maintenance/{response.json()['id']}/", {"ends": "2026-12-03T00:00:00+09:00"},
                    content_type="application/json")
    assert bad.status_code == 400 and "ends" in bad.json()


def test_api_line_carries_its_capacity_changes_and_capacity_now(user_with_role, inv):
    line = inv["lines"][0]
    api = _api(user_with_role, Role.ENGINEER.value)
    response = api.post("/api/inventory/capacity-changes/", {
        "line": line.pk, "effective": (timezone.now() - HOUR).isoformat(), "capacity_bps": 200_000_000},
        content_type="application/json")
    assert response.status_code == 201, response.content
    body = api.get(f"/api/inventory/lines/{line.pk}/").json()
    assert body["capacity_now_bps"] == 200_000_000
    assert [c["capacity_bps"] for c in body["capacity_changes"]] == [200_000_000]


def test_inventory_json_carries_recent_windows_validated_by_the_core(client, settings, inv, windows):
    token = "maintenance-token-" + "z" * 32
    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={"web": lw.web.model_copy(update={"inventory_token": SecretStr(token)})})
    recent = PlannedMaintenance.objects.create(starts=timezone.now() - 6 * HOUR, ends=timezone.now() - 2 * HOUR)
    recent.lines.set([inv["lines"][0]])
    response = client.get("/api/inventory.json", HTTP_AUTHORIZATION=f"Bearer {token}")
    inventory = Inventory.model_validate(response.json())
    # Not the window that ended 26 hours ago (windows[past]): only those ending after a day ago.
    assert {w.id for w in inventory.maintenance} == {windows["active"].key, windows["upcoming"].key, recent.key}
    active = inventory.maintenance_at(timezone.now().timestamp())
    assert active[inv["lines"][0].name].reason == f"planned maintenance {windows['active'].key} (DT-CHG-active)"


def test_demo_seeds_one_window_on_fra_voice_starting_in_two_hours_once(tmp_path):
    from web.inventory import demo
    from web.inventory.io import import_dir

    import_dir(Path(__file__).resolve().parents[2] / "config")
    now = timezone.now()
    window = demo.seed_maintenance(now=now)
    assert [line.name for line in window.lines.all()] == ["FRA-VOICE-1"]
    assert window.carrier.name == "Deutsche Telekom" and window.carrier_reference == "DT-CHG-4471"
    assert dt.timedelta(minutes=119) < window.starts - now <= 2 * HOUR and window.ends - window.starts == 4 * HOUR
    assert demo.seed_maintenance(now=now) is None  # a later start keeps the application's windows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_inventory_document_stays_valid_after_any_sequence_of_accepted_version_and_window_writes(
        user_with_role, inv, seed):
    """Random capacity-change and maintenance writes through the API (some invalid: zero capacity, a moment taken,
    an end before the start, a line of another carrier, a line deleted): each is accepted or refused (never a
    500), and after each the core validates ``/api/inventory.json`` and every window names listed lines."""
    import random

    rng = random.Random(seed)
    admin = _api(user_with_role, Role.ADMIN.value)
    moments = [(timezone.now() + k * HOUR).isoformat() for k in range(-3, 4)]
    lines = list(inv["lines"])
    answers: dict[tuple[str, int], int] = {}
    for _ in range(40):
        op = rng.choice(["capacity", "capacity", "window", "window", "patch", "delete-change", "delete-line"])
        line = rng.choice(lines)
        if op == "capacity":
            response = admin.post("/api/inventory/capacity-changes/", {
                "line": line.pk, "effective": rng.choice(moments), "capacity_bps": rng.choice([0, 1, 10**9])},
                content_type="application/json")
        elif op == "window":
            starts, ends = rng.choice(moments), rng.choice(moments)
            response = admin.post("/api/inventory/maintenance/", {
                "carrier": rng.choice([None, *(c.pk for c in inv["carriers"])]), "starts": starts, "ends": ends,
                "lines": [line.pk for line in rng.sample(lines, rng.randint(0, 2))]}, content_type="application/json")
        elif op == "patch" and PlannedMaintenance.objects.exists():
            window = rng.choice(list(PlannedMaintenance.objects.all()))
            response = admin.patch(f"/api/inventory/maintenance/{window.pk}/", {"ends": rng.choice(moments)},
                                   content_type="application/json")
        elif op == "delete-change" and CapacityChange.objects.exists():
            change = rng.choice(list(CapacityChange.objects.all()))
            response = admin.delete(f"/api/inventory/capacity-changes/{change.pk}/")
        elif op == "delete-line" and len(lines) > 2:
            lines.remove(line)
            response = admin.delete(f"/api/inventory/lines/{line.pk}/")
        else:
            continue
        assert response.status_code in (200, 201, 204, 400), (op, response.content)
        answers[op, response.status_code] = answers.get((op, response.status_code), 0) + 1
        document = admin.get("/api/inventory.json")
        assert document.status_code == 200, document.content
        inventory = Inventory.model_validate(document.json())
        listed = set(inventory.lines_by_id)
        assert all(set(w.lines) <= listed for w in inventory.maintenance)
        assert len({w.id for w in inventory.maintenance}) == len(inventory.maintenance)
    assert answers.get(("capacity", 201)) and answers.get(("window", 201)) and answers.get(("window", 400)), answers
