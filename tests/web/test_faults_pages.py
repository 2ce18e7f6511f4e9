"""Fault pages and API: the report form, the ticket page's steps, the list's filters, the causes and claims pages,
Korean, and the same permissions through the API (tickets, steps, comments, the alert intake)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import override_settings
from faults_support import alert, fault_world, payload

pytestmark = pytest.mark.django_db


def _login(client, user_with_role, role):
    user = user_with_role(role)
    client.force_login(user)
    return user


def test_any_staff_member_reports_a_fault_with_the_form(client, make_inventory, user_with_role):
    from web.faults.models import Ticket

    world = fault_world(make_inventory)
    user = _login(client, user_with_role, "viewer")
    response = client.post("/faults/add/", {"kind": "degraded", "line": world["line"].pk, "location": "",
                                            "affected_service": "VoIP", "description": "calls drop"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/faults/{ticket.pk}/"
    assert (ticket.reporter, ticket.carrier, ticket.location, ticket.state) == \
        (user, world["carrier"], "Frankfurt", "open")


def test_the_form_refuses_a_report_without_line_or_location_naming_the_field(client, user_with_role, db):
    _login(client, user_with_role, "viewer")
    response = client.post("/faults/add/", {"kind": "other", "description": "?"})
    assert response.status_code == 400 and "give the line or the location" in response.content.decode()


def test_the_ticket_page_offers_only_the_steps_the_role_may_take(client, make_inventory, user_with_role):
    from web.faults import services

    world = fault_world(make_inventory)
    ticket = services.open_ticket(acting_user=None, kind="line_down", line=world["line"])
    client.force_login(user_with_role("viewer"))
    page = client.get(f"/faults/{ticket.pk}/").content.decode()
    assert "step-notify_carrier" not in page and "ticket-comment" in page
    client.force_login(user_with_role("noc"))
    page = client.get(f"/faults/{ticket.pk}/").content.decode()
    assert "step-notify_carrier" in page and "step-resolve" in page and "step-close" not in page


def test_a_step_posted_by_a_role_without_it_is_forbidden(client, make_inventory, user_with_role):
    from web.faults import services

    ticket = services.open_ticket(acting_user=None, kind="line_down", line=fault_world(make_inventory)["line"])
    client.force_login(user_with_role("finance"))
    assert client.post(f"/faults/{ticket.pk}/step/resolve/", {"cause": "power"}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.state == "open"


def test_resolving_on_the_page_without_a_cause_is_refused(client, make_inventory, user_with_role):
    from web.faults import services

    ticket = services.open_ticket(acting_user=None, kind="line_down", line=fault_world(make_inventory)["line"])
    client.force_login(user_with_role("noc"))
    response = client.post(f"/faults/{ticket.pk}/step/resolve/", {"cause": ""}, follow=True)
    ticket.refresh_from_db()
    assert ticket.state == "open" and response.status_code == 200


def test_the_list_puts_active_tickets_first_and_filters_by_state(client, make_inventory, user_with_role):
    from web.faults import services

    world = fault_world(make_inventory)
    done = services.open_ticket(acting_user=None, kind="line_down", line=world["line"],
                                opened_at=dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC))
    services.resolve(done, acting_user=None, cause="power")
    active = services.open_ticket(acting_user=None, kind="other", location="Seoul",
                                  opened_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    client.force_login(user_with_role("viewer"))
    page = client.get("/faults/").content.decode()
    assert page.index(f"/faults/{active.pk}/") < page.index(f"/faults/{done.pk}/")
    page = client.get("/faults/?state=resolved").content.decode()
    assert f"/faults/{done.pk}/" in page and f"/faults/{active.pk}/\"" not in page


def test_the_pages_are_in_korean(client, make_inventory, user_with_role):
    from web.faults import services

    world = fault_world(make_inventory)
    ticket = services.open_ticket(acting_user=None, kind="line_down", line=world["line"])
    client.force_login(user_with_role("engineer"))
    headers = {"Accept-Language": "ko"}
    assert "장애" in client.get("/faults/", headers=headers).content.decode()
    page = client.get(f"/faults/{ticket.pk}/", headers=headers).content.decode()
    assert "회선 장애" in page or "회선 다운" in page
    assert "통신사에 통지" in page
    assert "반복 원인" in client.get("/faults/causes/", headers=headers).content.decode()


def test_regression_the_timeline_names_states_in_the_users_language(client, make_inventory, user_with_role):
    """The timeline showed the stored codes ("open → in_progress") on the Korean page."""
    from web.faults import services

    world = fault_world(make_inventory)
    ticket = services.open_ticket(acting_user=None, kind="line_down", line=world["line"])
    services.start_work(ticket, acting_user=None)
    client.force_login(user_with_role("engineer"))
    page = client.get(f"/faults/{ticket.pk}/", headers={"Accept-Language": "ko"}).content.decode()
    [timeline] = re.findall(r'<ol class="timeline".*?</ol>', page, flags=re.DOTALL) or [page[page.index("이력"):]]
    assert "in_progress" not in timeline and "open →" not in timeline
    assert "→ 조치 중" in timeline


def test_the_line_page_lists_the_lines_open_tickets(client, make_inventory, user_with_role):
    from web.faults import services

    world = fault_world(make_inventory)
    ticket = services.open_ticket(acting_user=None, kind="line_down", line=world["line"])
    client.force_login(user_with_role("viewer"))
    page = client.get(f"/inventory/lines/{world['line'].pk}/").content.decode()
    assert f"/faults/{ticket.pk}/" in page


def test_the_causes_page_highlights_a_cause_recurring_on_a_line(client, make_inventory, user_with_role):
    from web.faults import services

    world = fault_world(make_inventory)
    for _ in range(2):
        t = services.open_ticket(acting_user=None, kind="line_down", line=world["line"])
        services.resolve(t, acting_user=None, cause="power")
    client.force_login(user_with_role("viewer"))
    page = client.get("/faults/causes/").content.decode()
    assert 'class="recurring"' in page and "LINE-000" in page


def test_finance_sees_and_updates_the_claims(client, make_inventory, user_with_role):
    from web.faults import services

    world = fault_world(make_inventory)
    start = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    t = services.open_ticket(acting_user=None, kind="line_down", line=world["line"], outage=True, opened_at=start)
    services.resolve(t, acting_user=None, cause="carrier", resolved_at=start + dt.timedelta(hours=3))
    claim = world["line"].sla_claims.get()
    client.force_login(user_with_role("finance"))
    assert "2026-11" in client.get("/faults/claims/").content.decode()
    assert client.post(f"/faults/claims/{claim.pk}/state/", {"state": "claimed", "note": "mailed"}).status_code == 302
    claim.refresh_from_db()
    assert claim.state == "claimed"
    client.force_login(user_with_role("noc"))
    assert client.get("/faults/claims/").status_code == 403


# -- API --------------------------------------------------------------------------------------------------------------
def _token(user, scope="write"):
    from linewatch.choices import TokenScope
    from web.accounts.tokens import Token

    _, key = Token.create(user=user, name="t", scope=TokenScope(scope))
    return {"Authorization": f"Bearer {key}"}


def test_the_api_opens_moves_and_comments_a_ticket_with_the_pages_permissions(client, make_inventory, user_with_role):
    world = fault_world(make_inventory)
    viewer, noc = _token(user_with_role("viewer")), _token(user_with_role("noc"))
    created = client.post("/api/faults/tickets/", {"kind": "line_down", "line": world["line"].pk,
                                                   "description": "down"}, headers=viewer,
                          content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["carrier"] == world["carrier"].pk
    step = {"step": "resolve", "cause": "power"}
    assert client.post(f"/api/faults/tickets/{pk}/transition/", step, headers=viewer,
                       content_type="application/json").status_code == 403
    no_cause = client.post(f"/api/faults/tickets/{pk}/transition/", {"step": "resolve"}, headers=noc,
                           content_type="application/json")
    assert no_cause.status_code == 400 and "cause" in no_cause.json()
    done = client.post(f"/api/faults/tickets/{pk}/transition/", step, headers=noc, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "resolved"
    closing = client.post(f"/api/faults/tickets/{pk}/transition/", {"step": "close"}, headers=noc,
                          content_type="application/json")
    assert closing.status_code == 403
    comment = client.post(f"/api/faults/tickets/{pk}/comment/", {"text": "thanks"}, headers=viewer,
                          content_type="application/json")
    assert comment.status_code == 201 and comment.json()["kind"] == "comment"
    assert client.patch(f"/api/faults/tickets/{pk}/", {"carrier_ticket_ref": "X-1"}, headers=viewer,
                        content_type="application/json").status_code == 403
    assert client.patch(f"/api/faults/tickets/{pk}/", {"carrier_ticket_ref": "X-1"}, headers=noc,
                        content_type="application/json").json()["carrier_ticket_ref"] == "X-1"
    listed = client.get("/api/faults/tickets/?state=resolved", headers=viewer).json()
    assert [t["id"] for t in listed["results"]] == [pk]


def test_a_read_token_may_not_take_a_step(client, make_inventory, user_with_role):
    from web.faults import services

    ticket = services.open_ticket(acting_user=None, kind="line_down", line=fault_world(make_inventory)["line"])
    read = _token(user_with_role("noc"), scope="read")
    assert client.post(f"/api/faults/tickets/{ticket.pk}/transition/", {"step": "start_work"}, headers=read,
                       content_type="application/json").status_code == 403


INTAKE_TOKEN = "intake-" + "z" * 30


def _with_intake_token():
    from django.conf import settings
    from pydantic import SecretStr

    web = settings.LINEWATCH.web.model_copy(update={"alert_intake_token": SecretStr(INTAKE_TOKEN)})
    return override_settings(LINEWATCH=settings.LINEWATCH.model_copy(update={"web": web}))


@pytest.mark.parametrize(("auth", "status"), [
    ("intake", 200), ("engineer", 200), ("viewer", 200), ("none-role", 403), ("wrong", 401), ("anonymous", 401)])
def test_the_alert_intake_takes_the_intake_token_or_a_token_allowed_to_add_tickets(client, make_inventory,
                                                                                   user_with_role, auth, status):
    fault_world(make_inventory)
    headers = {"Idempotency-Key": "77"}
    if auth == "intake":
        headers["Authorization"] = f"Bearer {INTAKE_TOKEN}"
    elif auth == "wrong":
        headers["Authorization"] = "Bearer not-the-token"
    elif auth != "anonymous":
        headers |= _token(user_with_role(None if auth == "none-role" else auth))
    with _with_intake_token():
        response = client.post("/api/faults/alerts/", json.dumps(payload(firing=[alert(line="LINE-000")])),
                               content_type="application/json", headers=headers)
    assert response.status_code == status, response.content


def test_the_alert_intake_without_an_idempotency_key_is_refused_naming_it(client, make_inventory):
    fault_world(make_inventory)
    with _with_intake_token():
        response = client.post("/api/faults/alerts/", json.dumps(payload()), content_type="application/json",
                               headers={"Authorization": f"Bearer {INTAKE_TOKEN}"})
    assert response.status_code == 400 and "Idempotency-Key" in response.json()


def test_a_repeated_post_to_the_intake_answers_the_first_result_and_opens_nothing(client, make_inventory):
    from web.faults.models import Ticket

    fault_world(make_inventory)
    headers = {"Authorization": f"Bearer {INTAKE_TOKEN}", "Idempotency-Key": "501.1764640100"}
    body = json.dumps(payload(firing=[alert(line="LINE-000")]))
    with _with_intake_token():
        first = client.post("/api/faults/alerts/", body, content_type="application/json", headers=headers).json()
        again = client.post("/api/faults/alerts/", body, content_type="application/json", headers=headers).json()
    assert first["opened"] and not first["repeat"]
    assert again == first | {"repeat": True} and Ticket.objects.count() == 1
