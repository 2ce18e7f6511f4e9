"""Orders end to end through the API: each workflow's path move by move, each move tried first by every role that
does not own it (403 naming the roles that do, nothing changed), then made by its owner; the line's status follows
the order; the worker's jobs make the automatic moves (acceptance judged on real InfluxDB data, a change applied at
its effective moment creating the version rows, a termination completed on its date) and remind exactly once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linewatch.choices import LineStatus, OrderState

pytestmark = pytest.mark.django_db
ROLES = ("viewer", "noc", "engineer", "finance", "admin")


@pytest.fixture
def people(user_with_role) -> dict[str, Any]:
    users = {}
    for role in ROLES:
        user = user_with_role(role)
        user.email = f"{role}@example.test"
        user.save()
        users[role] = user
    return users


@pytest.fixture
def inv(make_inventory) -> dict[str, Any]:
    return make_inventory(2)


def api(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def move(user: Any, order_id: int, name: str, **values: Any) -> Any:
    return api(user).post(f"/api/orders/{order_id}/transition/", {"transition": name, **values},
                          content_type="application/json")


def walk(people: dict[str, Any], order_id: int, name: str, owners: set[str], **values: Any) -> dict[str, Any]:
    """Every role not in ``owners`` is refused ``name`` (403 naming the owners, the state unchanged); then the
    first owner that is not admin makes it."""
    from web.orders.models import Order

    before = Order.objects.get(pk=order_id).state
    for role in ROLES:
        if role in owners:
            continue
        response = move(people[role], order_id, name, **values)
        assert response.status_code == 403, (role, name, response.content)
        assert set(response.json().get("roles", [])) == owners, (role, name, response.json())
        assert Order.objects.get(pk=order_id).state == before
    owner = next(r for r in ROLES if r in owners and r != "admin")
    response = move(people[owner], order_id, name, **values)
    assert response.status_code == 200, (owner, name, response.content)
    return response.json()


def line_status(name: str) -> str:
    from web.inventory.models import Line

    return Line.objects.get(name=name).status


# -- new line ----------------------------------------------------------------------------------------------------


def request_new_line(people: dict[str, Any], inv: dict[str, Any], name: str = "PAR-INET-9") -> dict[str, Any]:
    response = api(people["noc"]).post("/api/orders/", {
        "kind": "new_line", "line_name": name, "line_type": "internet", "site": inv["sites"][0].pk,
        "capacity_bps": 50_000_000, "department": inv["departments"][0].pk, "justification": "new branch",
        "budget_amount": "1200", "currency": "EUR"}, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def write_polls(influx_db: tuple[str, str], *, line: str, device: str, interface: str, start_s: int, n: int,
                step_s: int = 60, in_bps: float = 5e6, oper: int = 1, errors_ps: float = 0.0,
                port_speed_bps: int = 1_000_000_000) -> None:
    import requests

    url, db = influx_db
    rows = []
    for k in range(n):
        t = start_s + k * step_s + 1
        rows.append(f"line_traffic,line={line},device={device},interface={interface},member_role=member "
                    f"in_bps={in_bps},out_bps={in_bps / 2},oper_status={oper}i,admin_status=1i,interval_s={step_s}.0,"
                    f"in_errors_ps={errors_ps},out_errors_ps=0.0,port_speed_bps={port_speed_bps}i {t * 10**9}")
    requests.post(f"{url}/write", params={"db": db}, data="\n".join(rows), timeout=10).raise_for_status()


def acceptance_settings(settings: Any, influx_db: tuple[str, str], window_s: int = 600) -> Any:
    from linewatch.influx import InfluxClient, InfluxSettings

    lw = settings.LINEWATCH
    orders = lw.orders.model_copy(update={"acceptance": lw.orders.acceptance.model_copy(
        update={"window_s": window_s})})
    settings.LINEWATCH = lw.model_copy(update={
        "orders": orders, "collector": lw.collector.model_copy(update={"interval_s": 60.0})})
    return InfluxClient(InfluxSettings(url=influx_db[0], database=influx_db[1]))


@pytest.mark.parametrize(("errors_ps", "passed"), [(0.0, True), (2.5, False)], ids=["clean", "errors"])
def test_new_line_from_request_to_active_follows_the_order(people, inv, influx_db, settings, errors_ps, passed):
    from web.inventory.models import Contract
    from web.orders import jobs
    from web.orders.models import Order

    influx = acceptance_settings(settings, influx_db)
    order = request_new_line(people, inv)
    assert order["state"] == "requested" and order["line"] is None
    walk(people, order["id"], "approve", {"finance", "admin"}, carrier=inv["carriers"][0].pk, quote_amount="900")
    assert line_status("PAR-INET-9") == LineStatus.PLANNED
    assert Contract.objects.get(line__name="PAR-INET-9").mrc == Decimal(900)
    walk(people, order["id"], "place_order", {"engineer", "admin"}, carrier_order_ref="TEL-ORD-1",
         promised_date="2026-12-20", circuit_id="TEL-77")
    assert line_status("PAR-INET-9") == LineStatus.PLANNED
    body = walk(people, order["id"], "install", {"engineer", "admin"}, device=inv["device"].pk,
                interface="ge-0/0/42")
    assert body["state"] == OrderState.IN_ACCEPTANCE  # installed, then acceptance at once
    assert line_status("PAR-INET-9") == LineStatus.PROVISIONING  # the collector polls it now
    assert move(people["admin"], order["id"], "accept").status_code == 403  # linewatch judges, nobody by hand

    started = Order.objects.get(pk=order["id"]).acceptance_started_at
    write_polls(influx_db, line="PAR-INET-9", device=inv["device"].name, interface="ge-0/0/42",
                start_s=int(started.timestamp()), n=10, errors_ps=errors_ps)
    assert jobs.run_acceptance(started + dt.timedelta(seconds=599), influx=influx) == 0  # the window runs
    assert jobs.run_acceptance(started + dt.timedelta(seconds=601), influx=influx) == 1
    assert jobs.run_acceptance(started + dt.timedelta(seconds=700), influx=influx) == 0  # decided once
    saved = Order.objects.get(pk=order["id"])
    assert saved.acceptance["passed"] is passed
    assert saved.acceptance["figures"]["samples"] > 0  # the measured figures are kept on the order
    if passed:
        assert saved.state == OrderState.ACCEPTED and line_status("PAR-INET-9") == LineStatus.ACTIVE
    else:
        assert saved.state == OrderState.ACCEPTANCE_FAILED and line_status("PAR-INET-9") == LineStatus.PROVISIONING
        assert any("errors" in f for f in saved.acceptance["failures"])
        # the engineer restarts it after fixing the port
        walk(people, order["id"], "start_acceptance", {"engineer", "admin"})
        assert Order.objects.get(pk=order["id"]).acceptance is None


def test_every_move_writes_an_event_and_the_change_log(people, inv):
    from django.contrib.contenttypes.models import ContentType

    from web.audit.models import ObjectChange
    from web.orders.models import Order

    order = request_new_line(people, inv)
    move(people["finance"], order["id"], "approve", carrier=inv["carriers"][0].pk)
    saved = Order.objects.get(pk=order["id"])
    events = list(saved.events.values_list("transition", "source", "target", "actor_name"))
    assert events[-1] == ("approve", "requested", "approved", people["finance"].username)
    changes = ObjectChange.objects.filter(changed_object_type=ContentType.objects.get_for_model(Order),
                                          changed_object_id=saved.pk)
    assert any(c.diff.get("state") == ["requested", "approved"] for c in changes)


def test_the_state_is_never_written_directly(people, inv):
    from web.orders.models import Order

    order = Order.objects.get(pk=request_new_line(people, inv)["id"])
    with pytest.raises(AttributeError):
        order.state = OrderState.ACCEPTED.value
    response = api(people["admin"]).patch(f"/api/orders/{order.pk}/", {"state": "accepted"},
                                          content_type="application/json")
    assert response.status_code == 405
    assert Order.objects.get(pk=order.pk).state == OrderState.REQUESTED


@pytest.mark.parametrize(("name", "status"), [("complete", 409), ("nonsense", 400)])
def test_automatic_unknown_and_foreign_moves_are_refused(people, inv, name, status):
    order = request_new_line(people, inv)
    assert move(people["admin"], order["id"], name).status_code == status


def test_a_missing_field_of_a_move_is_named(people, inv):
    order = request_new_line(people, inv)
    move(people["finance"], order["id"], "approve", carrier=inv["carriers"][0].pk)
    response = move(people["engineer"], order["id"], "place_order", carrier_order_ref="X")
    assert response.status_code == 400 and "promised_date" in response.json()


def test_the_requester_may_withdraw_the_request_and_others_not(people, inv):
    order = request_new_line(people, inv)
    assert move(people["viewer"], order["id"], "cancel").status_code == 403
    assert move(people["noc"], order["id"], "cancel").json()["state"] == OrderState.CANCELLED


# -- change ------------------------------------------------------------------------------------------------------


def test_bandwidth_change_is_applied_at_its_effective_moment_creating_the_versions(people, inv):
    from web.inventory.models import CapacityChange, Contract, ContractChange, Line
    from web.orders import jobs
    from web.orders.models import Order

    line = inv["lines"][1]
    line.status = LineStatus.ACTIVE.value
    line.save()
    Contract.objects.create(line=line, mrc=Decimal(500))
    response = api(people["engineer"]).post("/api/orders/", {
        "kind": "change", "line": line.pk, "change_kind": "bandwidth_up", "capacity_bps": line.capacity_bps * 2,
        "mrc": "800", "justification": "saturated"}, content_type="application/json")
    assert response.status_code == 201, response.content
    order = response.json()
    walk(people, order["id"], "agree", {"engineer", "finance", "admin"})  # capacity and terms: either
    effective = timezone.now() + dt.timedelta(days=7)
    walk(people, order["id"], "schedule", {"engineer", "admin"}, effective_at=effective.isoformat())
    assert jobs.apply_changes(effective - dt.timedelta(seconds=1)) == 0
    assert not CapacityChange.objects.filter(line=line).exists()
    assert jobs.apply_changes(effective) == 1
    assert jobs.apply_changes(effective + dt.timedelta(hours=1)) == 0
    change = CapacityChange.objects.get(line=line)
    assert (change.effective, change.capacity_bps) == (effective, line.capacity_bps * 2)
    assert ContractChange.objects.get(contract__line=line).mrc == Decimal(800)
    saved = Order.objects.get(pk=order["id"])
    assert saved.state == OrderState.APPLIED and saved.old_capacity_bps == line.capacity_bps
    fresh = Line.objects.get(pk=line.pk)
    assert fresh.capacity_at(effective - dt.timedelta(seconds=1)) == line.capacity_bps
    assert fresh.capacity_at(effective) == line.capacity_bps * 2


@pytest.mark.parametrize(("values", "owners"), [
    ({"change_kind": "bandwidth_up", "capacity_bps": 999_000_000}, {"engineer", "admin"}),
    ({"change_kind": "move", "site": "other", "mrc": "100"}, {"engineer", "finance", "admin"}),
], ids=["capacity-engineer", "move-and-terms-both"])
def test_a_change_is_agreed_by_the_role_owning_what_changes(people, inv, values, owners):
    line = inv["lines"][1]
    body = {"kind": "change", "line": line.pk} | values
    if body.get("site") == "other":
        body["site"] = inv["sites"][0].pk if line.site_id != inv["sites"][0].pk else inv["sites"][1].pk
    response = api(people["engineer"]).post("/api/orders/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    walk(people, response.json()["id"], "agree", owners)


@pytest.mark.parametrize(("peak_bps", "port_speed_bps", "state"), [
    (15e6, 1_000_000_000, OrderState.VERIFIED),  # traffic above the old 10 Mbit/s: the upgrade works
    (15e6, 10_000_000, OrderState.APPLIED),  # the port is slower than the new capacity: recorded, stays applied
], ids=["verified", "port-too-slow"])
def test_an_applied_upgrade_is_verified_on_the_measured_traffic(people, inv, influx_db, settings, peak_bps,
                                                               port_speed_bps, state):
    from web.orders import jobs
    from web.orders.models import Order

    influx = acceptance_settings(settings, influx_db)
    line = inv["lines"][0]  # 10 Mbit/s
    line.status = LineStatus.ACTIVE.value
    line.save()
    order = api(people["engineer"]).post("/api/orders/", {
        "kind": "change", "line": line.pk, "change_kind": "bandwidth_up", "capacity_bps": 20_000_000},
        content_type="application/json").json()
    effective = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    move(people["engineer"], order["id"], "agree")
    move(people["engineer"], order["id"], "schedule", effective_at=effective.isoformat())
    assert jobs.apply_changes() == 1
    member = line.members.get()
    write_polls(influx_db, line=line.name, device=member.device.name, interface=member.interface,
                start_s=int(effective.timestamp()), n=30, in_bps=peak_bps, port_speed_bps=port_speed_bps)
    assert jobs.verify_changes(influx=influx) == 1
    saved = Order.objects.get(pk=order["id"])
    assert saved.state == state
    assert saved.verification["passed"] is (state == OrderState.VERIFIED)
    if state == OrderState.APPLIED:
        assert any("port speed" in f for f in saved.verification["failures"])
        assert jobs.verify_changes(influx=influx) == 0  # the same failure is recorded once


def test_a_move_changes_the_line_site_when_applied(people, inv):
    from web.inventory.models import Line

    line = inv["lines"][1]
    response = api(people["engineer"]).post("/api/orders/", {
        "kind": "change", "line": line.pk, "change_kind": "move", "site": inv["sites"][0].pk,
        "device": inv["device"].pk, "interface": "ge-0/0/77"}, content_type="application/json")
    order = response.json()
    move(people["engineer"], order["id"], "agree")
    move(people["engineer"], order["id"], "schedule", effective_at=timezone.now().isoformat())
    assert move(people["engineer"], order["id"], "apply").json()["state"] == OrderState.APPLIED
    fresh = Line.objects.get(pk=line.pk)
    assert fresh.site == inv["sites"][0] and [m.interface for m in fresh.members.all()] == ["ge-0/0/77"]
    assert move(people["engineer"], order["id"], "verify").json()["state"] == OrderState.VERIFIED


def test_a_bandwidth_change_must_change_the_bandwidth(people, inv):
    line = inv["lines"][1]
    response = api(people["engineer"]).post("/api/orders/", {
        "kind": "change", "line": line.pk, "change_kind": "bandwidth_up", "capacity_bps": line.capacity_bps},
        content_type="application/json")
    assert response.status_code == 400 and "capacity_bps" in response.json()


# -- termination -------------------------------------------------------------------------------------------------


def _terminable(inv: dict[str, Any], *, term_start: dt.date) -> Any:
    from web.inventory.models import Contract

    line = inv["lines"][1]
    line.status = LineStatus.ACTIVE.value
    line.save()
    Contract.objects.create(line=line, mrc=Decimal(1000), term_start=term_start, term_months=24, notice_days=90)
    return line


def test_termination_from_request_to_decommissioned_on_its_date(people, inv, settings):
    pytest.importorskip("billing_etl.termination")
    from web.notify.models import OutboxMessage
    from web.orders import jobs
    from web.orders.models import Order

    line = _terminable(inv, term_start=dt.date(2020, 1, 1))  # long past its term: no fee
    date = timezone.localdate() + dt.timedelta(days=120)
    response = api(people["engineer"]).post("/api/orders/", {
        "kind": "termination", "line": line.pk, "requested_date": date.isoformat(),
        "recovery_items": ["router at the site", "patch cable"]}, content_type="application/json")
    assert response.status_code == 201, response.content
    order = response.json()
    body = walk(people, order["id"], "check_notice", {"finance", "admin"})
    assert body["terms"]["early"] is False and body["terms"]["fee"] in ("0", "0.00")
    walk(people, order["id"], "confirm_carrier", {"finance", "engineer", "admin"},
         carrier_confirmation_ref="CEASE-1", carrier_confirmed_on=timezone.localdate().isoformat())
    walk(people, order["id"], "deprovision", {"engineer", "admin"})
    assert line_status(line.name) == LineStatus.DEPROVISIONING
    refused = move(people["engineer"], order["id"], "recover_equipment")
    assert refused.status_code == 400 and "recovery_items" in refused.json()
    for item in body["recovery_items"]:
        assert api(people["noc"]).patch(f"/api/orders/recovery-items/{item['id']}/", {"done": True},
                                        content_type="application/json").status_code == 403
        assert api(people["engineer"]).patch(f"/api/orders/recovery-items/{item['id']}/", {"done": True},
                                             content_type="application/json").status_code == 200
    walk(people, order["id"], "recover_equipment", {"engineer", "admin"})
    the_day = timezone.now() + dt.timedelta(days=120)
    assert jobs.complete_terminations(the_day - dt.timedelta(days=1)) == 0
    assert line_status(line.name) == LineStatus.DEPROVISIONING
    assert jobs.complete_terminations(the_day) == 1
    assert jobs.complete_terminations(the_day) == 0
    saved = Order.objects.get(pk=order["id"])
    assert saved.state == OrderState.COMPLETED and saved.completion_notice_sent_at is not None
    assert line_status(line.name) == LineStatus.DECOMMISSIONED
    assert saved.line.termination_date == date
    notices = OutboxMessage.objects.filter(key__startswith=f"order:{saved.pk}:termination_notice")
    assert [m.recipients[0]["address"] for m in notices] == [people["engineer"].email]


def test_an_early_termination_needs_the_fee_acknowledged(people, inv):
    pytest.importorskip("billing_etl.termination")
    line = _terminable(inv, term_start=timezone.localdate() - dt.timedelta(days=30))  # 23 months to go
    date = timezone.localdate() + dt.timedelta(days=100)
    order = api(people["finance"]).post("/api/orders/", {
        "kind": "termination", "line": line.pk, "requested_date": date.isoformat()},
        content_type="application/json").json()
    refused = move(people["finance"], order["id"], "check_notice")
    assert refused.status_code == 400 and "fee_acknowledged" in refused.json()
    body = move(people["finance"], order["id"], "check_notice", fee_acknowledged=True).json()
    assert body["state"] == OrderState.NOTICE_CHECKED
    assert body["terms"]["early"] is True and Decimal(body["terms"]["fee"]) > 0


# -- reminders ---------------------------------------------------------------------------------------------------


def test_assignment_and_due_reminders_are_queued_exactly_once(people, inv):
    from web.notify.models import OutboxMessage
    from web.orders import jobs

    order = request_new_line(people, inv)
    step = order["steps"][1]  # ordered: the engineer's
    today = timezone.localdate()
    patch = {"assignee": people["engineer"].pk, "due_date": (today + dt.timedelta(days=2)).isoformat()}
    for _ in range(2):
        response = api(people["finance"]).patch(f"/api/orders/steps/{step['id']}/", patch,
                                                content_type="application/json")
        assert response.status_code == 200, response.content
    assert api(people["noc"]).patch(f"/api/orders/steps/{step['id']}/", patch,
                                    content_type="application/json").status_code == 403
    kinds = lambda: sorted(OutboxMessage.objects.values_list("key", flat=True))
    assert kinds() == [f"order:{order['id']}:assigned:step:{step['id']}:user:{people['engineer'].pk}"]
    now = timezone.now()
    assert jobs.send_reminders(now - dt.timedelta(days=1)) == 0  # three days before: not yet
    assert jobs.send_reminders(now) == 1
    assert jobs.send_reminders(now) == 0  # run twice: once
    assert jobs.send_reminders(now + dt.timedelta(days=3)) == 1  # overdue
    assert jobs.send_reminders(now + dt.timedelta(days=4)) == 0
    assert len(kinds()) == 3 and {k.rsplit(":", 1)[1] for k in kinds()[1:]} == {"soon", "overdue"}


def test_comments_are_the_working_roles_and_land_in_the_history(people, inv):
    order = request_new_line(people, inv)
    url = f"/api/orders/{order['id']}/comments/"
    assert api(people["viewer"]).post(url, {"text": "hi"}, content_type="application/json").status_code == 403
    assert api(people["noc"]).post(url, {"text": "carrier called"},
                                   content_type="application/json").status_code == 201
    detail = api(people["viewer"]).get(f"/api/orders/{order['id']}/").json()
    assert detail["events"][-1]["text"] == "carrier called" and detail["transitions"] == []


def test_a_refused_side_effect_leaves_the_order_and_the_line_unchanged(people, inv):
    """An install on a port that carries another line is refused naming the interface: no member, still ordered."""
    from web.inventory.models import LineMember
    from web.orders.models import Order

    order = request_new_line(people, inv)
    move(people["finance"], order["id"], "approve", carrier=inv["carriers"][0].pk)
    move(people["engineer"], order["id"], "place_order", carrier_order_ref="R-1", promised_date="2026-12-20")
    taken = inv["lines"][1].members.get()
    response = move(people["engineer"], order["id"], "install", device=inv["device"].pk, interface=taken.interface)
    assert response.status_code == 400 and "interface" in response.json()
    assert Order.objects.get(pk=order["id"]).state == OrderState.ORDERED
    assert not LineMember.objects.filter(line__name="PAR-INET-9").exists()
    assert line_status("PAR-INET-9") == LineStatus.PLANNED


@pytest.mark.parametrize(("scope", "status"), [("read", 403), ("write", 200)])
def test_a_read_only_token_cannot_move_an_order(people, inv, scope, status):
    from linewatch.choices import TokenScope
    from web.accounts.tokens import Token

    order = request_new_line(people, inv)
    _token, secret = Token.create(user=people["finance"], name=scope, scope=TokenScope(scope))
    response = Client().post(f"/api/orders/{order['id']}/transition/",
                             {"transition": "approve", "carrier": inv["carriers"][0].pk},
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == status
