"""Fault tickets: the state machine per role, the alert intake (one ticket per incident, idempotent), the carrier's
mail and its escalation, SLA-credit claims, recurring causes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from faults_support import alert, fault_world, payload

from linewatch.settings import FaultsSettings

pytestmark = pytest.mark.django_db

T0 = 1_764_640_000  # 2025-12-02 01:46:40 UTC


def _ticket(world, **fields):
    from web.faults import services

    return services.open_ticket(acting_user=None, kind="line_down", line=world["line"], outage=True, **fields)


# -- the state machine per role -------------------------------------------------------------------------------------
# (role, step, allowed): every role reports a fault and comments; NOC and engineer work tickets; engineer and admin
# close; finance and viewer only report.
ROLE_STEPS = [
    *[(role, "open", True) for role in ("viewer", "noc", "engineer", "finance", "admin")],
    *[(role, "comment", True) for role in ("viewer", "noc", "engineer", "finance", "admin")],
    *[(role, step, role in ("noc", "engineer", "admin"))
      for role in ("viewer", "noc", "engineer", "finance", "admin")
      for step in ("notify_carrier", "start_work", "resolve", "reopen")],
    *[(role, "close", role in ("engineer", "admin")) for role in ("viewer", "noc", "engineer", "finance", "admin")],
    (None, "open", False),
]


def _run_step(world, user, step):
    from web.faults import services

    ticket = _ticket(world)
    if step == "open":
        return services.open_ticket(acting_user=user, kind="other", location="Room 2.14", description="no dial tone")
    if step == "comment":
        return services.comment(ticket, acting_user=user, text="still down")
    if step in ("reopen", "close"):
        services.resolve(ticket, acting_user=None, cause="carrier", resolved_at=ticket.opened_at)
    kwargs = {"cause": "power"} if step == "resolve" else {}
    return services.STEPS[step](ticket, acting_user=user, **kwargs)


@pytest.mark.parametrize(("role", "step", "allowed"), ROLE_STEPS, ids=[f"{r}-{s}" for r, s, _ in ROLE_STEPS])
def test_each_step_is_allowed_only_to_the_roles_that_own_it(make_inventory, user_with_role, role, step, allowed):
    world = fault_world(make_inventory)
    user = user_with_role(role)
    if allowed:
        assert _run_step(world, user, step) is not None
    else:
        with pytest.raises(PermissionDenied):
            _run_step(world, user, step)


MOVES = [  # (from, step, to or None = refused)
    ("open", "notify_carrier", "carrier_notified"),
    ("open", "start_work", "in_progress"),
    ("carrier_notified", "start_work", "in_progress"),
    ("in_progress", "resolve", "resolved"),
    ("open", "resolve", "resolved"),
    ("resolved", "close", "closed"),
    ("resolved", "reopen", "in_progress"),
    ("closed", "reopen", "in_progress"),
    ("open", "close", None),
    ("in_progress", "notify_carrier", None),
    ("closed", "resolve", None),
]


@pytest.mark.parametrize(("start", "step", "end"), MOVES, ids=[f"{a}-{s}" for a, s, _ in MOVES])
def test_the_state_machine_allows_only_its_moves(make_inventory, user_with_role, start, step, end):
    from web.faults import services
    from web.faults.models import Ticket

    world = fault_world(make_inventory)
    engineer = user_with_role("engineer")
    ticket = _ticket(world)
    Ticket.objects.filter(pk=ticket.pk).update(state=start, cause="carrier" if start == "closed" else "",
                                               resolved_at=ticket.opened_at if start in ("resolved", "closed")
                                               else None)
    ticket.refresh_from_db()
    kwargs = {"cause": "cpe"} if step in ("resolve", "close") else {}
    if end is None:
        with pytest.raises(ValidationError) as exc:
            services.STEPS[step](ticket, acting_user=engineer, **kwargs)
        assert "state" in exc.value.message_dict
    else:
        services.STEPS[step](ticket, acting_user=engineer, **kwargs)
        assert Ticket.objects.get(pk=ticket.pk).state == end
        last = ticket.events.filter(kind="state_change").last()
        assert (last.from_state, last.to_state, last.user_name) == (start, end, engineer.username)


def test_a_person_resolving_a_ticket_must_give_the_cause(make_inventory, user_with_role):
    from web.faults import services

    ticket = _ticket(fault_world(make_inventory))
    with pytest.raises(ValidationError) as exc:
        services.resolve(ticket, acting_user=user_with_role("noc"))
    assert "cause" in exc.value.message_dict


def test_closing_an_alert_resolved_ticket_needs_its_cause(make_inventory, user_with_role):
    from web.faults import services

    ticket = _ticket(fault_world(make_inventory))
    services.resolve(ticket, acting_user=None, resolved_at=ticket.opened_at + dt.timedelta(minutes=5))
    with pytest.raises(ValidationError) as exc:
        services.close(ticket, acting_user=user_with_role("engineer"))
    assert "cause" in exc.value.message_dict
    services.close(ticket, acting_user=user_with_role("engineer"), cause="power", review_note="UPS replaced")
    assert (ticket.state, ticket.cause) == ("closed", "power")


def test_the_timeline_is_append_only(make_inventory):
    ticket = _ticket(fault_world(make_inventory))
    event = ticket.events.first()
    event.text = "rewritten"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        ticket.events.all().update(text="rewritten")
    with pytest.raises(ValidationError):
        event.delete()


def test_a_manual_ticket_needs_a_line_or_a_location(user_with_role, db):
    from web.faults import services

    with pytest.raises(ValidationError) as exc:
        services.open_ticket(acting_user=user_with_role("viewer"), kind="other", description="phone dead")
    assert "location" in exc.value.message_dict


def test_a_ticket_and_its_events_are_change_logged(make_inventory):
    from django.contrib.contenttypes.models import ContentType

    from web.audit.models import ObjectChange
    from web.faults.models import Ticket

    ticket = _ticket(fault_world(make_inventory))
    assert ObjectChange.objects.filter(changed_object_type=ContentType.objects.get_for_model(Ticket),
                                       changed_object_id=ticket.pk, action="create").exists()


# -- alert intake ---------------------------------------------------------------------------------------------------
CONFIG = FaultsSettings()


def test_a_firing_line_down_alert_opens_one_ticket_at_the_alerts_start(make_inventory):
    from web.faults.intake import receive
    from web.faults.models import Ticket

    world = fault_world(make_inventory)
    result = receive(payload(firing=[alert(line="LINE-000", since_s=T0)]), idempotency_key="41", config=CONFIG)
    ticket = Ticket.objects.get(pk=result.opened[0])
    assert (ticket.line, ticket.carrier, ticket.kind, ticket.outage, ticket.reporter) == \
        (world["line"], world["carrier"], "line_down", True, None)
    assert ticket.opened_at == dt.datetime.fromtimestamp(T0, dt.UTC)
    assert list(ticket.events.values_list("kind", flat=True)) == ["opened", "alert_fired"]


def test_a_repeat_with_the_same_idempotency_key_changes_nothing(make_inventory):
    from web.faults.intake import receive
    from web.faults.models import Ticket, TicketEvent

    fault_world(make_inventory)
    body = payload(firing=[alert(line="LINE-000")])
    first = receive(body, idempotency_key="41", config=CONFIG)
    events = TicketEvent.objects.count()
    again = receive(body, idempotency_key="41", config=CONFIG)
    assert again.repeat and again.opened == first.opened
    assert Ticket.objects.count() == 1 and TicketEvent.objects.count() == events


def test_the_same_incident_from_another_notification_opens_no_second_ticket(make_inventory):
    """A reminder, or the same alert routed to a second receiver: another key, the same alert and start."""
    from web.faults.intake import receive
    from web.faults.models import Ticket

    fault_world(make_inventory)
    receive(payload(firing=[alert(line="LINE-000")]), idempotency_key="41", config=CONFIG)
    second = receive(payload(firing=[alert(line="LINE-000")], group_key="other"), idempotency_key="42",
                     config=CONFIG)
    assert second.opened == [] and Ticket.objects.count() == 1


def test_another_rule_on_a_line_with_an_active_ticket_joins_its_timeline(make_inventory):
    from web.faults.intake import receive
    from web.faults.models import Ticket

    fault_world(make_inventory)
    first = receive(payload(firing=[alert(line="LINE-000")]), idempotency_key="41", config=CONFIG)
    second = receive(payload(firing=[alert(line="LINE-000", rule="no_data", kind="no_data", since_s=T0 + 60)]),
                     idempotency_key="42", config=CONFIG)
    assert second.updated == first.opened and Ticket.objects.count() == 1
    assert Ticket.objects.get().events.filter(kind="alert_fired").count() == 2


@pytest.mark.parametrize(("rule", "kind", "opens"), [
    ("line_down", "line_down", True), ("no_data", "no_data", True), ("utilization", "utilization", True),
    ("errors", "error_rate", False), ("member_down", "member_down", False)])
def test_only_the_configured_rules_open_tickets(make_inventory, rule, kind, opens):
    from web.faults.intake import receive

    fault_world(make_inventory)
    result = receive(payload(firing=[alert(line="LINE-000", rule=rule, kind=kind)]), idempotency_key="1",
                     config=CONFIG)
    assert bool(result.opened) is opens
    assert bool(result.ignored) is not opens


def test_the_resolved_alert_resolves_its_ticket_at_the_alerts_resolution_to_the_second(make_inventory):
    from web.faults.intake import receive
    from web.faults.models import Ticket

    fault_world(make_inventory)
    receive(payload(firing=[alert(line="LINE-000", since_s=T0)]), idempotency_key="41", config=CONFIG)
    result = receive(payload(resolved=[alert(line="LINE-000", state="resolved", since_s=T0 + 4321)]),
                     idempotency_key="43", config=CONFIG)
    ticket = Ticket.objects.get(pk=result.resolved[0])
    assert ticket.state == "resolved" and ticket.duration_s == 4321
    assert ticket.resolved_at == dt.datetime.fromtimestamp(T0 + 4321, dt.UTC)


def test_a_resolved_alert_leaves_a_ticket_already_resolved_by_a_person_alone(make_inventory, user_with_role):
    from web.faults import services
    from web.faults.intake import receive
    from web.faults.models import Ticket

    fault_world(make_inventory)
    opened = receive(payload(firing=[alert(line="LINE-000")]), idempotency_key="41", config=CONFIG).opened[0]
    ticket = Ticket.objects.get(pk=opened)
    services.resolve(ticket, acting_user=user_with_role("noc"), cause="cpe")
    at = Ticket.objects.get(pk=opened).resolved_at
    result = receive(payload(resolved=[alert(line="LINE-000", state="resolved", since_s=T0 + 99)]),
                     idempotency_key="43", config=CONFIG)
    assert result.resolved == [] and Ticket.objects.get(pk=opened).resolved_at == at


@pytest.mark.parametrize(("body", "field"), [
    ({"firing": [{"key": "x"}]}, "firing.0.rule"),
    ({"firing": [alert(line="L") | {"since_s": "soon"}]}, "firing.0.since_s"),
    ({"resolved": "all"}, "resolved"),
])
def test_a_malformed_payload_is_refused_naming_the_field(db, body, field):
    from web.faults.intake import receive

    with pytest.raises(ValidationError) as exc:
        receive(body, idempotency_key="1", config=CONFIG)
    assert field in exc.value.message_dict


def test_an_alert_on_an_unknown_line_is_ignored_with_the_reason(db):
    from web.faults.intake import receive

    result = receive(payload(firing=[alert(line="NOPE-1")]), idempotency_key="1", config=CONFIG)
    assert result.opened == [] and "NOPE-1" in result.ignored[0]["reason"]


# -- the carrier's mail and the escalation --------------------------------------------------------------------------
def test_notifying_the_carrier_queues_the_template_to_its_noc_once(make_inventory, user_with_role):
    from web.faults import services
    from web.notify.models import OutboxMessage

    world = fault_world(make_inventory)
    ticket = _ticket(world, description="no light on the fibre")
    services.notify_carrier(ticket, acting_user=user_with_role("noc"))
    msg = OutboxMessage.objects.get(key=f"ticket:{ticket.pk}:carrier:notify")
    assert [r["address"] for r in msg.recipients] == ["noc@telia.example"]
    assert "CID-00000" in msg.subject and f"LW-FAULT-{ticket.pk}" in msg.text and "Frankfurt" in msg.text
    assert (ticket.state, ticket.escalation_level) == ("carrier_notified", 1)
    assert ticket.events.filter(kind="carrier_notified").exists()


def test_the_carriers_korean_template_row_makes_the_mail_korean(make_inventory, user_with_role):
    from web.faults import services
    from web.notify.models import MessageTemplate, OutboxMessage

    world = fault_world(make_inventory)
    MessageTemplate.objects.create(kind="carrier_fault_notice", carrier=world["carrier"], language="ko",
                                   subject="장애 신고 {{ reference }} 회선 {{ circuit_id }}",
                                   body="{{ carrier }} 귀중\n\n발생 시각: {{ since }}\n")
    ticket = _ticket(world)
    services.notify_carrier(ticket, acting_user=user_with_role("noc"))
    msg = OutboxMessage.objects.get(key=f"ticket:{ticket.pk}:carrier:notify")
    assert msg.language == "ko" and msg.subject.startswith("장애 신고") and "Telia 귀중" in msg.text


def test_a_carrier_without_noc_email_cannot_be_notified_and_says_why(make_inventory, user_with_role):
    from web.faults import services

    world = fault_world(make_inventory)
    world["carrier"].contacts.all().delete()
    ticket = _ticket(world)
    with pytest.raises(ValidationError) as exc:
        services.notify_carrier(ticket, acting_user=user_with_role("noc"))
    assert "carrier" in exc.value.message_dict


def test_escalation_mails_the_next_level_after_the_configured_hours_once_per_level(make_inventory, user_with_role):
    from web.faults import services
    from web.faults.jobs import escalate_overdue
    from web.faults.models import Ticket
    from web.notify.models import OutboxMessage

    world = fault_world(make_inventory)
    ticket = _ticket(world)
    notified = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    services.notify_carrier(ticket, acting_user=user_with_role("noc"), now=notified)
    hours = dt.timedelta(hours=4)
    assert escalate_overdue(now=notified + hours - dt.timedelta(seconds=1)) == []
    assert escalate_overdue(now=notified + hours) == [ticket.pk]
    assert escalate_overdue(now=notified + hours + dt.timedelta(minutes=5)) == []  # once per level
    assert escalate_overdue(now=notified + 2 * hours) == [ticket.pk]
    assert escalate_overdue(now=notified + 3 * hours) == []  # nobody at level 4
    keys = dict(OutboxMessage.objects.filter(key__startswith=f"ticket:{ticket.pk}:escalate:")
                .values_list("key", "recipients"))
    assert {k: [r["address"] for r in v] for k, v in keys.items()} == {
        f"ticket:{ticket.pk}:escalate:2": ["duty@telia.example"],
        f"ticket:{ticket.pk}:escalate:3": ["director@telia.example"]}
    assert Ticket.objects.get(pk=ticket.pk).escalation_level == 3


def test_an_update_restarts_the_escalation_clock(make_inventory, user_with_role):
    from web.faults import services
    from web.faults.jobs import escalate_overdue
    from web.faults.models import Ticket

    world = fault_world(make_inventory)
    ticket = _ticket(world)
    notified = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    services.notify_carrier(ticket, acting_user=user_with_role("noc"), now=notified)
    services.comment(ticket, acting_user=user_with_role("noc"), text="carrier called: engineer on the way",
                     carrier_answer=True, carrier_ticket_ref="TEL-778")
    Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=notified + dt.timedelta(hours=3))
    assert escalate_overdue(now=notified + dt.timedelta(hours=5)) == []
    assert Ticket.objects.get(pk=ticket.pk).carrier_ticket_ref == "TEL-778"


def test_an_alert_opened_outage_ticket_notifies_the_carrier_when_the_setting_is_on(make_inventory):
    from web.faults.intake import receive
    from web.faults.models import Ticket
    from web.notify.models import OutboxMessage

    fault_world(make_inventory)
    config = FaultsSettings(notify_carrier_automatically=True)
    opened = receive(payload(firing=[alert(line="LINE-000")]), idempotency_key="9", config=config).opened
    assert Ticket.objects.get(pk=opened[0]).state == "carrier_notified"
    assert OutboxMessage.objects.filter(key=f"ticket:{opened[0]}:carrier:notify").exists()


# -- SLA-credit claims ----------------------------------------------------------------------------------------------
def test_an_outage_below_the_sla_target_creates_a_claim_with_the_contracts_tier(make_inventory):
    from web.faults import services

    world = fault_world(make_inventory)
    start = dt.datetime(2026, 11, 10, 8, 0, tzinfo=dt.UTC)
    ticket = _ticket(world, opened_at=start)
    # 2 h of a 30-day month: 99.7222 % availability, below 99.9 (10 %), not below 99 (25 %).
    services.resolve(ticket, acting_user=None, cause="carrier", resolved_at=start + dt.timedelta(hours=2))
    claim = world["line"].sla_claims.get()
    assert (claim.period, claim.availability_pct, claim.credit_pct, claim.amount, claim.currency, claim.outage_s) == \
        ("2026-11", Decimal("99.7222"), Decimal(10), Decimal("100.00"), "EUR", 7200)
    assert list(claim.tickets.all()) == [ticket] and claim.finding_rule == "sla_credit_owed"


def test_a_short_outage_above_the_target_claims_nothing(make_inventory):
    from web.faults import services

    world = fault_world(make_inventory)
    start = dt.datetime(2026, 11, 10, 8, 0, tzinfo=dt.UTC)
    ticket = _ticket(world, opened_at=start)
    services.resolve(ticket, acting_user=None, cause="carrier", resolved_at=start + dt.timedelta(minutes=30))
    assert not world["line"].sla_claims.exists()


def test_overlapping_outages_count_once():
    from web.faults.claims import merged_seconds

    t = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    h = dt.timedelta(hours=1)
    assert merged_seconds([(t, t + 2 * h), (t + h, t + 3 * h), (t + 5 * h, t + 6 * h)], t, t + 24 * h) == 4 * 3600
    assert merged_seconds([(t - h, t + h)], t, t + 24 * h) == 3600  # clipped to the month


def test_recurring_causes_highlight_two_incidents_of_one_cause_on_one_line():
    from web.faults.views import recurring_causes

    rows = recurring_causes([("line", "A", "power"), ("line", "A", "power"), ("line", "B", "power"),
                             ("carrier", "Telia", "power"), ("carrier", "Telia", "power")])
    assert [(r["subject"], r["incidents"], r["recurring"]) for r in rows] == [
        ("Telia", 2, False), ("A", 2, True), ("B", 1, False)]


def test_the_demo_seed_gives_every_carrier_a_noc_contact_and_one_ticket_with_the_carriers_reference(make_inventory):
    from web.faults import demo
    from web.faults.models import Ticket

    inv = make_inventory(n=2)
    assert demo.seed() == 1
    ticket = Ticket.objects.get()
    assert (ticket.state, ticket.carrier_ticket_ref, ticket.line) == ("in_progress", "DEMO-4711", inv["lines"][0])
    assert all(c.contacts.filter(role="noc").exclude(email="").exists() for c in inv["carriers"])
    assert demo.seed() == 0 and Ticket.objects.count() == 1


@pytest.mark.parametrize("kind", ["carrier_fault_notice", "carrier_escalation"])
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_built_in_carrier_templates_render_with_every_variable(kind, language):
    """StrictUndefined: a variable the text uses but the context lacks fails here, not in a carrier's inbox."""
    from web.notify.templates import builtin, render_source, sample_context

    rendered = render_source(builtin(kind, language), sample_context(kind))
    assert "LW-FAULT-12" in rendered.subject and "DT-0042-FRA" in rendered.text
    assert "<p>" in rendered.html


def test_the_carrier_mail_context_gives_every_variable_the_templates_use(make_inventory):
    from web.faults.carrier_mail import context
    from web.notify.templates import sample_context

    world = fault_world(make_inventory)
    ticket = _ticket(world)
    now = ticket.opened_at + dt.timedelta(hours=5)
    for kind in ("carrier_fault_notice", "carrier_escalation"):
        assert set(sample_context(kind)) <= set(context(ticket, language="en", level=2, now=now))
