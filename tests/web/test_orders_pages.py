"""The orders' pages: request forms, the detail page showing only the moves the user may make (the others refused
with 403), the moves and the checklist through the forms, attachments, comments, the line page's lifecycle
timeline, Korean pages; and the state machine of the model is the workflow table's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from linewatch.choices import LineStatus, OrderKind, OrderState

pytestmark = pytest.mark.django_db


@pytest.fixture
def inv(make_inventory) -> dict[str, Any]:
    return make_inventory(2)


def login(user: Any, language: str | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    return client


def _new_line(client: Client, inv: dict[str, Any]) -> Any:
    from web.orders.models import Order

    response = client.post("/orders/new/new_line/", {
        "line_name": "SEL-INET-7", "line_type": "internet", "site": inv["sites"][1].pk, "capacity_bps": 20_000_000,
        "department": inv["departments"][0].pk, "justification": "Seoul office"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.get(line_name="SEL-INET-7")


def test_a_request_form_names_the_missing_field(user_with_role, inv):
    response = login(user_with_role("noc")).post("/orders/new/new_line/", {"line_name": "X-1"})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() >= {"site", "capacity_bps", "line_type", "department"}


def test_the_detail_page_offers_only_the_users_moves_and_a_foreign_move_is_403(user_with_role, inv):
    noc, finance = user_with_role("noc"), user_with_role("finance")
    order = _new_line(login(noc), inv)
    page = login(finance).get(order.get_absolute_url()).content.decode()
    assert 'value="approve"' in page and 'value="reject"' in page
    viewer_page = login(user_with_role("viewer")).get(order.get_absolute_url()).content.decode()
    assert 'value="approve"' not in viewer_page and 'id="actions"' not in viewer_page
    engineer = login(user_with_role("engineer"))
    assert engineer.post(f"/orders/{order.pk}/transition/", {"transition": "approve"}).status_code == 403
    assert type(order).objects.get(pk=order.pk).state == OrderState.REQUESTED


def test_new_line_moves_through_the_forms_and_the_line_page_shows_its_lifecycle(user_with_role, inv):
    from web.inventory.models import Line

    order = _new_line(login(user_with_role("noc")), inv)
    finance, engineer = login(user_with_role("finance")), login(user_with_role("engineer"))
    response = finance.post(f"/orders/{order.pk}/transition/", {"transition": "approve",
                                                                "approve-carrier": inv["carriers"][0].pk})
    assert response.status_code == 302
    response = engineer.post(f"/orders/{order.pk}/transition/", {
        "transition": "place_order", "place_order-carrier_order_ref": "ORD-1",
        "place_order-promised_date": "2026-12-24", "comment": "ordered by phone"})
    assert response.status_code == 302
    bad = engineer.post(f"/orders/{order.pk}/transition/", {"transition": "install",
                                                            "install-device": inv["device"].pk})
    assert bad.status_code == 400 and "interface" in bad.context["moves"][0]["form"].errors
    response = engineer.post(f"/orders/{order.pk}/transition/", {
        "transition": "install", "install-device": inv["device"].pk, "install-interface": "xe-1/0/0"})
    assert response.status_code == 302
    line = Line.objects.get(name="SEL-INET-7")
    assert line.status == LineStatus.PROVISIONING
    page = login(user_with_role("viewer")).get(line.get_absolute_url()).content.decode()
    assert 'id="lifecycle"' in page and f"#{order.pk}" in page and "In acceptance" in page


def test_comments_attachments_and_steps_from_the_page(user_with_role, inv):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from document_samples import pdf

    noc, engineer_user = user_with_role("noc"), user_with_role("engineer")
    order = _new_line(login(noc), inv)
    assert login(noc).post(f"/orders/{order.pk}/comment/", {"text": "urgent"}).status_code == 302
    assert login(user_with_role("viewer")).post(f"/orders/{order.pk}/comment/", {"text": "x"}).status_code == 403
    upload = SimpleUploadedFile("quote.pdf", pdf())
    assert login(noc).post(f"/orders/{order.pk}/attach/", {"title": "Quote", "file": upload}).status_code == 302
    attachment = order.attachments.get()
    download = login(user_with_role("viewer")).get(f"/orders/attachments/{attachment.pk}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf()
    bad = SimpleUploadedFile("quote.pdf", b"not a pdf at all")
    assert login(noc).post(f"/orders/{order.pk}/attach/", {"file": bad}).status_code == 400
    step = order.steps.get(stage=OrderState.ORDERED.value)
    assert login(noc).post(f"/orders/steps/{step.pk}/assign/", {"assignee": engineer_user.pk}).status_code == 403
    response = login(engineer_user).post(f"/orders/steps/{step.pk}/assign/", {
        "assignee": engineer_user.pk, "due_date": "2026-12-10"})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.assignee == engineer_user and step.due_date == dt.date(2026, 12, 10)
    mine = login(engineer_user).get("/orders/?mine=true").content.decode()
    assert f"#{order.pk}" in mine
    others = login(noc).get("/orders/?mine=true").content.decode()
    assert f"#{order.pk}</a>" not in others
    kinds = [e.kind for e in order.events.all()]
    assert kinds.count("comment") == 1 and "attachment" in kinds and "assignment" in kinds


def test_the_order_pages_are_in_korean(user_with_role, inv):
    client = login(user_with_role("engineer"), language="ko")
    order = _new_line(client, inv)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "요청됨" in page and "이력" in page and "단계" in page
    listing = client.get("/orders/").content.decode()
    assert "개통" in listing and "해지 요청" in listing


def test_the_model_state_machine_is_the_workflow_table():
    """Every move of web/orders/workflow.py is a django-fsm transition of Order with its sources and target."""
    from web.orders.models import Order
    from web.orders.workflow import MOVES

    field = Order._meta.get_field("state")
    found = {(t.name, t.source, t.target) for t in field.get_all_transitions(Order)}
    expected = {(m.name, s.value, m.target.value) for m in MOVES for s in m.sources}
    assert found == expected


@pytest.mark.parametrize("kind", list(OrderKind), ids=[k.value for k in OrderKind])
def test_each_kind_has_one_step_per_stage_of_its_path(kind, inv):
    from web.orders.workflow import stages, step_moves

    assert [m.target for m in step_moves(kind)] == stages(kind)[1:]
