"""The invoices' way to payment (web/invoices/services.py): who may approve, schedule and pay (finance only, not
the admin: segregation of duties), the moves from each state, withholding of disputed amounts, the payment date
on or before the due date, an append-only history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from invoices_support import day, dispute_findings, make_invoice

from linewatch.choices import InvoiceState

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]


@pytest.fixture
def carrier(db):
    from web.inventory.models import Carrier

    return Carrier.objects.create(name="Colt", currency="EUR", vendor_number="V-100231", late_fee_pct=Decimal("1.5"))


@pytest.fixture
def finance(user_with_role):
    return user_with_role("finance")


@pytest.mark.parametrize(("role", "allowed"), [("finance", True), ("admin", False), ("engineer", False),
                                               ("noc", False), ("viewer", False), (None, False)],
                         ids=lambda v: str(v))
def test_only_finance_approves_schedules_and_pays(carrier, user_with_role, role, allowed):
    from web.invoices import services

    user = user_with_role(role)
    invoice = make_invoice(carrier)
    steps = [lambda inv: services.approve(inv, user, withhold_disputed=False),
             lambda inv: services.schedule(inv, user, payment_date=day("2026-12-18")),
             lambda inv: services.mark_paid(inv, user, paid_on=day("2026-11-30"), reference="PAY-1")]
    for step in steps:
        if allowed:
            invoice = step(invoice)
        else:
            with pytest.raises(services.NotPermitted) as refused:
                step(invoice)
            assert refused.value.roles == ["finance"]
            return
    assert invoice.state == InvoiceState.PAID


def test_the_roles_table_gives_the_approve_and_pay_permissions_to_finance_alone():
    from web.accounts.roles import ROLE_PERMISSIONS
    from web.invoices.workflow import MOVES

    for move in MOVES:
        if not move.permission:
            continue
        holders = {role for role, perms in ROLE_PERMISSIONS.items() if ("invoices", move.permission) in perms}
        assert holders == set(move.roles), move.name


@pytest.mark.parametrize(("state", "move"), [
    ("received", "approve"), ("received", "schedule"), ("received", "mark_paid"),
    ("audited", "schedule"), ("audited", "mark_paid"), ("paid", "approve"), ("paid", "schedule"),
    ("paid", "mark_paid")], ids=lambda v: str(v))
def test_a_move_from_the_wrong_state_is_refused_and_changes_nothing(carrier, finance, state, move):
    from web.invoices import services

    invoice = make_invoice(carrier, audited=state != "received")
    if state == "paid":
        invoice = services.approve(invoice, finance, withhold_disputed=False)
        invoice = services.mark_paid(invoice, finance, paid_on=day("2026-11-30"), reference="PAY-1")
    calls = {"approve": lambda: services.approve(invoice, finance, withhold_disputed=False),
             "schedule": lambda: services.schedule(invoice, finance, payment_date=day("2026-12-01")),
             "mark_paid": lambda: services.mark_paid(invoice, finance, paid_on=day("2026-11-30"), reference="X")}
    events = invoice.events.count()
    with pytest.raises(services.NotAvailable):
        calls[move]()
    invoice.refresh_from_db()
    assert invoice.state == state and invoice.events.count() == events


def test_approving_without_withholding_pays_the_whole_total_and_records_who(carrier, finance):
    from web.invoices import services

    invoice = services.approve(make_invoice(carrier, total="1000.00"), finance, withhold_disputed=False)
    assert (invoice.state, invoice.withheld_amount, invoice.amount_to_pay) == ("approved", 0, Decimal("1000.00"))
    assert invoice.approved_by == finance and invoice.approved_at is not None
    event = invoice.events.get(transition="approve")
    assert event.actor_name == finance.username and event.data["withhold_disputed"] is False


def test_approving_with_withholding_keeps_back_the_disputed_recoverable_amounts(carrier, finance):
    """Two findings disputed (50.00 + 25.50), a third still new (10.00: not withheld)."""
    from web.invoices import services

    invoice = make_invoice(carrier, total="1000.00")
    dispute_findings(carrier, invoice, finance, ["50.00", "25.50", "10.00"])
    invoice = services.approve(invoice, finance, withhold_disputed=True)
    assert invoice.withhold_disputed and invoice.withheld_amount == Decimal("75.50")
    assert invoice.amount_to_pay == Decimal("924.50")
    assert invoice.events.get(transition="approve").data["withheld_amount"] == "75.50"


def test_approving_without_withholding_ignores_disputes(carrier, finance):
    from web.invoices import services

    invoice = make_invoice(carrier, total="1000.00")
    dispute_findings(carrier, invoice, finance, ["50.00", "10.00"])
    invoice = services.approve(invoice, finance, withhold_disputed=False)
    assert invoice.withheld_amount == 0 and invoice.amount_to_pay == Decimal("1000.00")


@pytest.mark.parametrize(("payment_date", "ok"), [("2026-12-21", True), ("2026-12-01", True),
                                                  ("2026-12-22", False), (None, False)], ids=str)
def test_the_payment_date_is_on_or_before_the_due_date(carrier, finance, payment_date, ok):
    from web.invoices import services

    invoice = services.approve(make_invoice(carrier, due="2026-12-21"), finance, withhold_disputed=False)
    when = day(payment_date) if payment_date else None
    if ok:
        assert services.schedule(invoice, finance, payment_date=when).payment_date == when
    else:
        with pytest.raises(ValidationError) as refused:
            services.schedule(invoice, finance, payment_date=when)
        assert list(refused.value.message_dict) == ["payment_date"]
        invoice.refresh_from_db()
        assert invoice.state == "approved" and invoice.payment_date is None


def test_a_scheduled_payment_can_be_moved_and_the_history_keeps_both_dates(carrier, finance):
    from web.invoices import services

    invoice = services.approve(make_invoice(carrier), finance, withhold_disputed=False)
    invoice = services.schedule(invoice, finance, payment_date=day("2026-12-10"))
    invoice = services.schedule(invoice, finance, payment_date=day("2026-12-15"))
    moves = list(invoice.events.filter(transition="schedule").values_list("data", flat=True))
    assert [m["payment_date"] for m in moves] == ["2026-12-10", "2026-12-15"]
    assert moves[1]["previous_payment_date"] == "2026-12-10"


@pytest.mark.parametrize(("paid_on", "reference", "field"), [
    (None, "PAY-1", "paid_on"), ("future", "PAY-1", "paid_on"), ("2026-11-30", "  ", "reference"),
    ("2026-11-30", "x" * 129, "reference")], ids=["no-date", "future", "blank-reference", "long-reference"])
def test_a_payment_needs_a_past_day_and_a_reference(carrier, finance, paid_on, reference, field):
    from django.utils import timezone

    from web.invoices import services

    invoice = services.approve(make_invoice(carrier), finance, withhold_disputed=False)
    when = {None: None, "future": timezone.localdate() + dt.timedelta(days=1)}.get(paid_on) or \
        (day(paid_on) if paid_on else None)
    with pytest.raises(ValidationError) as refused:
        services.mark_paid(invoice, finance, paid_on=when, reference=reference)
    assert field in refused.value.message_dict


def test_the_history_is_append_only(carrier, finance):
    from web.invoices.models import AppendOnly

    event = make_invoice(carrier).events.first()
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()


def test_the_state_is_written_only_by_the_moves(carrier):
    from django_fsm import TransitionNotAllowed  # noqa: F401  (the protected field's own guard)

    invoice = make_invoice(carrier)
    with pytest.raises(AttributeError):
        invoice.state = "paid"


def test_overdue_is_unpaid_past_the_due_date(carrier, finance):
    from django.utils import timezone

    from web.invoices import services

    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    late = make_invoice(carrier, "LATE", due=yesterday)
    assert late.overdue
    paid = services.approve(make_invoice(carrier, "PAID", due=yesterday), finance, withhold_disputed=False)
    paid = services.mark_paid(paid, finance, paid_on=timezone.localdate(), reference="PAY-9")
    assert not paid.overdue
    assert not make_invoice(carrier, "LATER", due=timezone.localdate().isoformat()).overdue
