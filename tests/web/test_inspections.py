"""Periodic inspections (web/inspections): the schedule (pure), scheduling, performing with a ticket from a failed
item, reminders through the outbox (once each), the API and the pages (English and Korean)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from linewatch.choices import InspectionOutcome, InspectionRecurrence, InspectionState
from web.inspections.schedule import following_due, month_day_on, state_on

D = dt.date


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages in English whatever an earlier test's request activated (a Korean page leaves Korean active)."""
    from django.utils import translation

    with translation.override("en"):
        yield
EVERY = InspectionRecurrence.EVERY_N_DAYS
MONTHLY = InspectionRecurrence.MONTHLY_DAY


# -- the schedule: pure --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("due", "recurrence", "n", "day", "following"), [
    pytest.param(D(2026, 12, 2), EVERY, 7, None, D(2026, 12, 9), id="weekly"),
    pytest.param(D(2026, 12, 28), EVERY, 7, None, D(2027, 1, 4), id="weekly-into-next-year"),
    pytest.param(D(2026, 12, 5), MONTHLY, None, 5, D(2027, 1, 5), id="monthly-same-day"),
    pytest.param(D(2026, 12, 2), MONTHLY, None, 15, D(2026, 12, 15), id="monthly-later-this-month"),
    pytest.param(D(2027, 1, 31), MONTHLY, None, 31, D(2027, 2, 28), id="day-31-in-february-is-the-last-day"),
    pytest.param(D(2027, 2, 28), MONTHLY, None, 31, D(2027, 3, 31), id="back-to-31-after-february"),
    pytest.param(D(2028, 1, 30), MONTHLY, None, 30, D(2028, 2, 29), id="leap-february"),
])
def test_following_due_day(due: dt.date, recurrence: InspectionRecurrence, n: int | None, day: int | None,
                           following: dt.date) -> None:
    assert following_due(due, recurrence=recurrence, interval_days=n, month_day=day) == following


@pytest.mark.parametrize(("recurrence", "kwargs", "field"), [
    pytest.param(EVERY, {"interval_days": None}, "interval_days", id="every-n-days-without-n"),
    pytest.param(EVERY, {"interval_days": 0}, "interval_days", id="every-0-days"),
    pytest.param(MONTHLY, {"month_day": 32}, "month_day", id="day-32"),
])
def test_a_bad_recurrence_is_an_error_naming_the_field(recurrence: InspectionRecurrence, kwargs: dict,
                                                       field: str) -> None:
    with pytest.raises(ValueError, match=field):
        following_due(D(2026, 12, 1), recurrence=recurrence, **kwargs)


@pytest.mark.parametrize(("due", "today", "done", "state"), [
    pytest.param(D(2026, 12, 5), D(2026, 12, 5), False, InspectionState.DUE, id="due-on-its-day"),
    pytest.param(D(2026, 12, 5), D(2026, 12, 6), False, InspectionState.OVERDUE, id="overdue-the-day-after"),
    pytest.param(D(2026, 12, 5), D(2026, 12, 9), True, InspectionState.DONE, id="done-stays-done"),
])
def test_state_on(due: dt.date, today: dt.date, done: bool, state: InspectionState) -> None:
    assert state_on(due, today, done=done) is state


def test_month_day_on_clamps_to_the_months_last_day() -> None:
    assert month_day_on(2026, 4, 31) == D(2026, 4, 30)


# -- scheduling, performing, reminders: the database ---------------------------------------------------------------
CHECKLIST = ["Rack and cabling", "UPS battery test", "Backup line fails over"]


@pytest.fixture
def plan(make_inventory: Any, user_with_role: Any) -> Any:
    from web.inspections.models import InspectionPlan

    inv = make_inventory(2)
    assignee = user_with_role("engineer")
    assignee.email, assignee.first_name = "kim@example.com", "Kim"
    assignee.save()
    plan = InspectionPlan.objects.create(name="Frankfurt monthly", site=inv["sites"][0], checklist=CHECKLIST,
                                         recurrence=MONTHLY, month_day=5, next_due=D(2026, 12, 5), assignee=assignee)
    plan.lines.set([inv["lines"][0]])
    return plan


def _results(*outcomes: InspectionOutcome, ticket_for: int | None = None) -> list[Any]:
    from web.inspections.services import ItemResult

    return [ItemResult(position=n, outcome=o, note=f"note {n}", open_ticket=n == ticket_for)
            for n, o in enumerate(outcomes)]


OK, NOT_OK, NA = InspectionOutcome.OK, InspectionOutcome.NOT_OK, InspectionOutcome.NOT_APPLICABLE


@pytest.mark.django_db
def test_scheduling_creates_one_inspection_with_the_checklist_and_moves_the_plan_on(plan: Any) -> None:
    from web.inspections import services

    inspection = services.schedule(plan)
    assert (inspection.due, inspection.state) == (D(2026, 12, 5), InspectionState.DUE)
    assert [r.item for r in inspection.results.all()] == CHECKLIST
    plan.refresh_from_db()
    assert plan.next_due == D(2027, 1, 5)
    assert services.schedule(plan) is None, "a plan with an open inspection gets no second one"
    assert plan.inspections.count() == 1


@pytest.mark.django_db
def test_performing_with_a_failed_item_opens_a_ticket_and_schedules_the_next(plan: Any, user_with_role: Any) -> None:
    from web.faults.models import Ticket
    from web.inspections import services

    inspection = services.schedule(plan)
    noc = user_with_role("noc")
    done = services.perform(inspection, user=noc, results=_results(OK, NOT_OK, NA, ticket_for=1),
                            follow_up="replace the UPS battery")
    done.refresh_from_db()
    assert (done.state, done.performed_by, done.follow_up) == (InspectionState.DONE, noc, "replace the UPS battery")
    assert done.performed_at is not None
    rows = list(done.results.all())
    assert [(r.outcome, r.note) for r in rows] == [("ok", "note 0"), ("not_ok", "note 1"), ("n_a", "note 2")]
    ticket = Ticket.objects.get()
    assert rows[1].ticket == ticket and rows[0].ticket is None
    assert (ticket.line, ticket.site, ticket.reporter) == (plan.lines.get(), plan.site, noc)
    assert "UPS battery test" in ticket.description and "note 1" in ticket.description
    assert ticket.events.filter(kind="opened").count() == 1
    following = plan.inspections.open().get()
    assert following.due == D(2027, 1, 5)


@pytest.mark.django_db
@pytest.mark.parametrize(("results", "field", "reason"), [
    pytest.param(lambda: _results(OK, OK), "results", "items without a result: 3", id="an-item-missing"),
    pytest.param(lambda: _results(OK, OK, OK, ticket_for=0), "results", "only for a failed item",
                 id="ticket-for-an-ok-item"),
])
def test_a_bad_perform_is_refused_naming_the_field_and_keeps_nothing(plan: Any, user_with_role: Any, results: Any,
                                                                     field: str, reason: str) -> None:
    from django.core.exceptions import ValidationError

    from web.faults.models import Ticket
    from web.inspections import services

    inspection = services.schedule(plan)
    with pytest.raises(ValidationError) as caught:
        services.perform(inspection, user=user_with_role("engineer"), results=results())
    assert reason in " ".join(caught.value.message_dict[field])
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.DUE and not Ticket.objects.exists()


@pytest.mark.django_db
def test_an_inspection_is_performed_once(plan: Any, user_with_role: Any) -> None:
    from django.core.exceptions import ValidationError

    from web.inspections import services

    inspection = services.schedule(plan)
    services.perform(inspection, user=user_with_role("noc"), results=_results(OK, OK, OK))
    with pytest.raises(ValidationError, match="already performed"):
        services.perform(inspection, user=user_with_role("noc"), results=_results(OK, OK, OK))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "finance", None])
def test_roles_that_may_not_perform_are_refused(plan: Any, user_with_role: Any, role: str | None) -> None:
    from django.core.exceptions import PermissionDenied

    from web.inspections import services

    inspection = services.schedule(plan)
    with pytest.raises(PermissionDenied):
        services.perform(inspection, user=user_with_role(role), results=_results(OK, OK, OK))


@pytest.mark.django_db
def test_the_job_marks_overdue_and_reminds_once_per_inspection_and_reminder(plan: Any) -> None:
    from web.inspections import jobs
    from web.notify.models import OutboxMessage

    assert jobs.run(today=D(2026, 11, 20)) == {"scheduled": 1, "overdue": 0, "reminded": 0}, "not yet: 15 days"
    assert jobs.run(today=D(2026, 12, 3)) == {"scheduled": 0, "overdue": 0, "reminded": 1}
    assert jobs.run(today=D(2026, 12, 4)) == {"scheduled": 0, "overdue": 0, "reminded": 0}, "never twice"
    assert jobs.run(today=D(2026, 12, 6)) == {"scheduled": 0, "overdue": 1, "reminded": 1}
    assert jobs.run(today=D(2026, 12, 7)) == {"scheduled": 0, "overdue": 0, "reminded": 0}
    inspection = plan.inspections.get()
    assert inspection.state == InspectionState.OVERDUE
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert [m.key for m in messages] == [f"inspection:{inspection.pk}:due:user:{plan.assignee.pk}",
                                         f"inspection:{inspection.pk}:overdue:user:{plan.assignee.pk}"]
    assert messages[0].subject == "Due: periodic inspection Frankfurt monthly on 2026-12-05"
    assert messages[1].subject.startswith("Overdue:")
    assert f"/inspections/inspections/{inspection.pk}/" in messages[0].text
    assert messages[0].recipients[0]["address"] == "kim@example.com"


@pytest.mark.django_db
def test_a_korean_reminder_uses_the_korean_template(plan: Any, settings: Any) -> None:
    from web.inspections import services
    from web.notify.models import OutboxMessage

    settings.LANGUAGE_CODE = "ko"  # the assignee has no language of their own: the application's
    inspection = services.schedule(plan)
    assert services.remind(inspection, today=D(2026, 12, 5)) is True
    message = OutboxMessage.objects.get()
    assert message.subject == "예정: 정기 점검 Frankfurt monthly (2026-12-05)"
    assert message.language == "ko"


@pytest.mark.django_db
def test_plan_validation_names_the_field(make_inventory: Any) -> None:
    from django.core.exceptions import ValidationError

    from web.inspections.models import InspectionPlan

    plan = InspectionPlan(name="x", checklist=["  "], recurrence=EVERY, next_due=D(2026, 12, 1))
    with pytest.raises(ValidationError) as caught:
        plan.full_clean()
    assert set(caught.value.message_dict) == {"checklist", "interval_days"}


# -- the API -------------------------------------------------------------------------------------------------------
def _api(user: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("engineer", 201), ("admin", 201), ("noc", 403), ("viewer", 403)])
def test_api_plan_create_by_role_schedules_the_first_inspection(make_inventory: Any, user_with_role: Any,
                                                                role: str, status: int) -> None:
    from web.inspections.models import Inspection

    inv = make_inventory(1)
    response = _api(user_with_role(role)).post("/api/inspections/plans/", {
        "name": "Seoul weekly", "site": inv["sites"][1].pk, "lines": [inv["lines"][0].pk],
        "checklist": ["Rack", "UPS"], "recurrence": "every_n_days", "interval_days": 7,
        "next_due": "2026-12-09"}, format="json")
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["lines"] == [inv["lines"][0].pk]
        assert list(Inspection.objects.values_list("due", flat=True)) == [D(2026, 12, 9)]


@pytest.mark.django_db
def test_api_plan_errors_name_the_field(user_with_role: Any) -> None:
    response = _api(user_with_role("engineer")).post("/api/inspections/plans/", {
        "name": "x", "checklist": ["Rack"], "recurrence": "monthly_day", "next_due": "2026-12-09"}, format="json")
    assert response.status_code == 400
    assert "month_day" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("noc", 200), ("engineer", 200), ("viewer", 403), ("finance", 403)])
def test_api_perform_by_role(plan: Any, user_with_role: Any, role: str, status: int) -> None:
    from web.inspections import services

    inspection = services.schedule(plan)
    body = {"results": [{"position": 0, "outcome": "ok"}, {"position": 1, "outcome": "not_ok", "note": "weak",
                                                          "open_ticket": True},
                        {"position": 2, "outcome": "n_a"}], "follow_up": "battery"}
    response = _api(user_with_role(role)).post(f"/api/inspections/inspections/{inspection.pk}/perform/", body,
                                               format="json")
    assert response.status_code == status, response.content
    if status == 200:
        data = response.json()
        assert data["state"] == "done"
        assert [r["outcome"] for r in data["results"]] == ["ok", "not_ok", "n_a"]
        assert data["results"][1]["ticket"] is not None


@pytest.mark.django_db
@pytest.mark.parametrize(("scope", "status"), [("read", 403), ("write", 200)])
def test_api_perform_needs_a_write_token(plan: Any, user_with_role: Any, scope: str, status: int) -> None:
    from django.test import Client

    from linewatch.choices import TokenScope
    from web.accounts.tokens import Token
    from web.inspections import services

    inspection = services.schedule(plan)
    _token, key = Token.create(user=user_with_role("noc"), name="t", scope=TokenScope(scope))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"results": [{"position": n, "outcome": "ok"} for n in range(3)]}
    response = client.post(f"/api/inspections/inspections/{inspection.pk}/perform/", body,
                           content_type="application/json")
    assert response.status_code == status, response.content


@pytest.mark.django_db
def test_api_perform_without_every_item_is_400_naming_results(plan: Any, user_with_role: Any) -> None:
    from web.inspections import services

    inspection = services.schedule(plan)
    response = _api(user_with_role("noc")).post(f"/api/inspections/inspections/{inspection.pk}/perform/",
                                                {"results": [{"position": 0, "outcome": "ok"}]}, format="json")
    assert response.status_code == 400
    assert "items without a result: 2, 3" in response.json()["results"][0]


@pytest.mark.django_db
def test_api_lists_inspections_with_their_results(plan: Any, user_with_role: Any) -> None:
    from web.inspections import services

    services.schedule(plan)
    data = _api(user_with_role("viewer")).get("/api/inspections/inspections/").json()
    (row,) = data["results"]
    assert [r["item"] for r in row["results"]] == CHECKLIST and row["state"] == "due"


# -- the pages -----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_perform_page_records_the_results_and_opens_a_ticket(client: Any, plan: Any, user_with_role: Any) -> None:
    from web.faults.models import Ticket
    from web.inspections import services

    inspection = services.schedule(plan)
    client.force_login(user_with_role("noc"))
    url = f"/inspections/inspections/{inspection.pk}/perform/"
    page = client.get(url)
    assert page.status_code == 200 and "UPS battery test" in page.content.decode()
    response = client.post(url, {"outcome_0": "ok", "outcome_1": "not_ok", "note_1": "weak battery",
                                 "ticket_1": "on", "outcome_2": "n_a", "follow_up": "order a battery"})
    assert response.status_code == 302, response.content.decode()[:2000]
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.DONE
    assert Ticket.objects.get().inspection_results.get().note == "weak battery"
    detail = client.get(response["Location"]).content.decode()
    assert "weak battery" in detail and "order a battery" in detail


@pytest.mark.django_db
def test_perform_page_shows_a_missing_outcome_on_its_item(client: Any, plan: Any, user_with_role: Any) -> None:
    from web.inspections import services

    inspection = services.schedule(plan)
    client.force_login(user_with_role("engineer"))
    response = client.post(f"/inspections/inspections/{inspection.pk}/perform/", {"outcome_0": "ok"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"outcome_1", "outcome_2"}


@pytest.mark.django_db
def test_plan_form_saves_the_checklist_one_item_per_line(client: Any, make_inventory: Any,
                                                         user_with_role: Any) -> None:
    from web.inspections.models import InspectionPlan

    inv = make_inventory(1)
    client.force_login(user_with_role("engineer"))
    response = client.post("/inspections/plans/add/", {
        "name": "Seoul", "site": inv["sites"][1].pk, "checklist": "Rack\n\n  UPS  \nFans", "recurrence":
        "every_n_days", "interval_days": "30", "next_due": "2026-12-10", "remind_days": "3", "active": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = InspectionPlan.objects.get()
    assert plan.checklist == ["Rack", "UPS", "Fans"]
    assert plan.inspections.get().due == D(2026, 12, 10)
    edit = client.get(f"/inspections/plans/{plan.pk}/edit/").content.decode()
    assert "Rack\nUPS\nFans" in edit


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "korean"), [
    ("/inspections/", "점검"), ("/inspections/plans/", "점검 계획"), ("/inspections/plans/{plan}/", "점검 항목"),
    ("/inspections/inspections/{inspection}/perform/", "점검 수행"),
])
def test_pages_in_korean(client: Any, plan: Any, user_with_role: Any, url: str, korean: str) -> None:
    from web.inspections import services

    inspection = services.schedule(plan)
    client.force_login(user_with_role("engineer"))
    client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    page = client.get(url.format(plan=plan.pk, inspection=inspection.pk))
    assert page.status_code == 200
    assert korean in page.content.decode()


@pytest.mark.django_db
def test_demo_seed_gives_each_site_a_plan_with_an_inspection_due_this_week(make_inventory: Any) -> None:
    from web.inspections import demo
    from web.inspections.models import Inspection

    make_inventory(2)
    wednesday = D(2026, 12, 2)
    assert demo.seed(today=wednesday) == 2
    dues = sorted(Inspection.objects.values_list("due", flat=True))
    assert dues == [D(2026, 12, 2), D(2026, 12, 3)]
    assert all(wednesday <= due <= D(2026, 12, 6) for due in dues)
    assert demo.seed(today=wednesday) == 0, "a later start keeps the application's plans"


@pytest.mark.django_db
def test_demo_seed_on_a_sunday_is_due_that_day(make_inventory: Any) -> None:
    from web.inspections import demo
    from web.inspections.models import Inspection

    make_inventory(2)
    demo.seed(today=D(2026, 12, 6))
    assert set(Inspection.objects.values_list("due", flat=True)) == {D(2026, 12, 6)}
