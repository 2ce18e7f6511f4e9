"""The invoices' pages and API: the list's filters, the detail page offering only the user's moves, the moves by
page and API (403 naming the roles, 409 from a wrong state, 400 naming the field), the payments calendar (Monday
first, overdue in red, previous/next month), the AP export (one row per invoice and cost centre, CSV with a BOM and
neutralised text, typed XLSX, headers in the user's language), and the late-fee KPI helper."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from invoices_support import day, dispute_findings, make_invoice
from openpyxl import load_workbook

from linewatch.choices import InvoiceState

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]


@pytest.fixture
def world(db):
    """Colt with two lines in two cost centres (GL accounts) and an invoice over both plus VAT; Orange."""
    from web.inventory.models import Carrier, CostCentre, Department, Line, Site

    colt = Carrier.objects.create(name="Colt", currency="EUR", vendor_number="V-100231", late_fee_pct=Decimal("1.5"))
    orange = Carrier.objects.create(name="Orange Business", currency="EUR", vendor_number="V-200777")
    dept = Department.objects.create(name="Engineering")
    site = Site.objects.create(name="London")
    cc = [CostCentre.objects.create(code="CC-4100", department=dept, gl_account="6420-TELECOM"),
          CostCentre.objects.create(code="CC-5200", department=dept, gl_account="6430-WAN")]
    lines = [Line.objects.create(name=f"LON-{i}", carrier=colt, circuit_id=f"COLT-{i}", type="internet",
                                 status="active", site=site, department=dept, cost_centre=cc[i],
                                 capacity_bps=10_000_000) for i in range(2)]
    invoice = make_invoice(colt, "C-1", due="2026-12-21", rows=[
        {"charge_type": "monthly_recurring", "amount": "600.00", "circuit_id": "COLT-0", "line": lines[0]},
        {"charge_type": "monthly_recurring", "amount": "200.00", "circuit_id": "COLT-1", "line": lines[1]},
        {"charge_type": "tax", "amount": "160.00"},
        {"charge_type": "one_time", "amount": "40.00", "circuit_id": "COLT-UNKNOWN"}])
    return {"colt": colt, "orange": orange, "invoice": invoice, "lines": lines, "cost_centres": cc}


@pytest.fixture
def finance(user_with_role):
    return user_with_role("finance")


def _login(client, user):
    client.force_login(user)
    return client


# -- list and detail ------------------------------------------------------------------------------------------


FILTER_CASES = [
    ("", {"C-1", "O-1", "O-OLD"}), ("?state=approved", {"O-1"}), ("?state=audited", {"C-1", "O-OLD"}),
    ("?period=2026-10", {"O-OLD"}), ("?due_before=2026-12-01", {"O-OLD"}), ("?due_after=2026-12-21", {"C-1"}),
    ("?overdue=true", {"O-OLD"}), ("?overdue=false", {"C-1", "O-1"})]


# ids from the query only: a set's repr differs between xdist workers (string hashing)
@pytest.mark.parametrize(("query", "expected"), FILTER_CASES, ids=[q or "all" for q, _ in FILTER_CASES])
def test_the_list_filters_by_state_carrier_period_and_due(client, world, finance, query, expected):
    from web.invoices import services

    services.approve(make_invoice(world["orange"], "O-1", due="2026-12-15"), finance, withhold_disputed=False)
    make_invoice(world["orange"], "O-OLD", due="2026-11-20", period="2026-10")
    page = _login(client, finance).get(f"/invoices/{query}")
    assert page.status_code == 200
    shown = {inv.number for inv in page.context["page"]}
    assert shown == expected


def test_the_carrier_filter(client, world, finance):
    make_invoice(world["orange"], "O-1")
    page = _login(client, finance).get(f"/invoices/?carrier={world['orange'].pk}")
    assert {inv.number for inv in page.context["page"]} == {"O-1"}


@pytest.mark.parametrize(("role", "buttons"), [("finance", ["approve"]), ("admin", []), ("viewer", []),
                                               ("engineer", [])], ids=str)
def test_the_detail_page_offers_only_the_users_moves(client, world, user_with_role, role, buttons):
    page = _login(client, user_with_role(role)).get(world["invoice"].get_absolute_url())
    assert page.status_code == 200 and [m["name"] for m in page.context["moves"]] == buttons
    assert ('name="move" value="approve"' in page.content.decode()) is bool(buttons)


def test_the_detail_page_shows_the_rows_the_findings_and_the_disputed_amount(client, world, finance):
    rows = dispute_findings(world["colt"], world["invoice"], finance, ["50.00", "10.00"])
    html = _login(client, finance).get(world["invoice"].get_absolute_url()).content.decode()
    assert html.count('<tr class="row">') == 4
    assert all(f.display_id in html for f in rows)
    assert 'class="disputed">50.00 EUR' in html


def test_finance_approves_schedules_and_pays_through_the_page(client, world, finance):
    url = world["invoice"].get_absolute_url()
    move = f"{url}move/"
    c = _login(client, finance)
    assert c.post(move, {"move": "approve", "approve-withhold_disputed": "on"}).status_code == 302
    assert c.post(move, {"move": "schedule", "schedule-payment_date": "2026-12-22"}).status_code == 400
    page = c.post(move, {"move": "schedule", "schedule-payment_date": "2026-12-22"})
    assert "after the due date 2026-12-21" in page.content.decode()
    assert c.post(move, {"move": "schedule", "schedule-payment_date": "2026-12-18"}).status_code == 302
    assert c.post(move, {"move": "mark_paid", "mark_paid-paid_on": "2026-11-30",
                         "mark_paid-reference": "SEPA-77"}).status_code == 302
    world["invoice"].refresh_from_db()
    assert (world["invoice"].state, world["invoice"].payment_reference) == (InvoiceState.PAID, "SEPA-77")
    assert c.post(move, {"move": "approve"}).status_code == 409


def test_an_admin_posting_an_approval_is_refused_with_403(client, world, user_with_role):
    response = _login(client, user_with_role("admin")).post(f"{world['invoice'].get_absolute_url()}move/",
                                                            {"move": "approve"})
    assert response.status_code == 403
    world["invoice"].refresh_from_db()
    assert world["invoice"].state == InvoiceState.AUDITED


# -- API -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("finance", 200), ("admin", 403), ("noc", 403), ("viewer", 403)],
                         ids=str)
def test_api_approve_is_finance_only_and_403_names_the_role(client, world, user_with_role, role, status):
    response = _login(client, user_with_role(role)).post(
        f"/api/invoices/{world['invoice'].pk}/approve/", {"withhold_disputed": False}, content_type="application/json")
    assert response.status_code == status
    if status == 403:
        assert response.json()["roles"] == ["finance"]
    else:
        assert response.json()["state"] == "approved" and response.json()["amount_to_pay"] == "1000.0000"


def test_api_wrong_state_is_409_and_a_late_payment_date_400_naming_it(client, world, finance):
    c = _login(client, finance)
    pk = world["invoice"].pk
    response = c.post(f"/api/invoices/{pk}/schedule/", {"payment_date": "2026-12-10"},
                      content_type="application/json")
    assert response.status_code == 409
    c.post(f"/api/invoices/{pk}/approve/", {"withhold_disputed": True}, content_type="application/json")
    response = c.post(f"/api/invoices/{pk}/schedule/", {"payment_date": "2026-12-31"},
                      content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["payment_date"]
    response = c.post(f"/api/invoices/{pk}/mark_paid/", {"paid_on": "2026-11-30"}, content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["reference"]
    response = c.post(f"/api/invoices/{pk}/mark_paid/", {"paid_on": "2026-11-30", "reference": "SEPA-1"},
                      content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "paid"
    assert response.json()["transitions"] == []


def test_api_lists_with_rows_history_and_the_callers_moves(client, world, finance):
    data = _login(client, finance).get("/api/invoices/?state=audited").json()
    (item,) = data["results"] if isinstance(data, dict) else data
    assert item["number"] == "C-1" and len(item["rows"]) == 4 and item["transitions"] == ["approve"]
    assert [e["transition"] for e in item["events"]] == ["audit"]


# -- payments calendar ------------------------------------------------------------------------------------------


def test_the_calendar_lists_due_scheduled_and_paid_per_day_monday_first(client, world, finance):
    from web.invoices import services

    paid = services.approve(make_invoice(world["orange"], "O-PAID", due="2026-12-10"), finance,
                            withhold_disputed=False)
    services.mark_paid(paid, finance, paid_on=day("2026-12-01"), reference="SEPA-2")
    scheduled = services.approve(make_invoice(world["orange"], "O-SCHED", due="2026-12-28"), finance,
                                 withhold_disputed=False)
    services.schedule(scheduled, finance, payment_date=day("2026-12-24"))
    page = _login(client, finance).get("/invoices/calendar/?month=2026-12")
    weeks = page.context["weeks"]
    assert weeks[0][0].date == day("2026-11-30") and weeks[0][0].date.weekday() == 0  # Monday first
    days = {d.date: d for w in weeks for d in w}
    assert [i.number for i in days[day("2026-12-21")].due] == ["C-1"]
    assert [i.number for i in days[day("2026-12-24")].scheduled] == ["O-SCHED"]
    assert [i.number for i in days[day("2026-12-28")].due] == ["O-SCHED"]
    assert [i.number for i in days[day("2026-12-01")].paid] == ["O-PAID"] and not days[day("2026-12-10")].due
    html = page.content.decode()
    assert 'href="?month=2026-11"' in html and 'href="?month=2027-01"' in html


def test_calendar_month_totals_add_every_invoice_of_the_currency(client, world, finance):
    """Regression: the month's "due" total showed one invoice's amount (values().annotate() grouped by the model's
    ordering, due date first, and the last group won); it adds every unpaid invoice due in the month, at the
    amount to pay, and the paid ones at what was paid."""
    from web.invoices import services

    make_invoice(world["orange"], "O-A", due="2026-12-05")
    make_invoice(world["orange"], "O-B", due="2026-12-28")
    paid = services.approve(make_invoice(world["orange"], "O-PAID", due="2026-12-10"), finance,
                            withhold_disputed=False)
    services.mark_paid(paid, finance, paid_on=day("2026-12-01"), reference="SEPA-3")
    totals = _login(client, finance).get("/invoices/calendar/?month=2026-12").context["totals"]
    due = sum((i.payable_amount for i in world["invoice"].__class__.objects.filter(
        due_date__month=12, due_date__year=2026).exclude(state="paid")), Decimal(0))
    (eur,) = totals
    assert eur["due"] == due and eur["due"] > max(i.payable_amount for i in world["invoice"].__class__.objects.all())
    assert eur["paid"] == paid.payable_amount


def test_an_overdue_invoice_is_red_on_the_calendar(client, world, finance):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    make_invoice(world["orange"], "O-LATE", due=yesterday.isoformat())
    html = _login(client, finance).get(f"/invoices/calendar/?month={yesterday:%Y-%m}").content.decode()
    assert 'class="cal-due cal-overdue"' in html and "O-LATE" in html


def test_the_calendar_in_korean(client, world, finance):
    page = _login(client, finance).get("/invoices/calendar/?month=2026-12", HTTP_ACCEPT_LANGUAGE="ko")
    html = page.content.decode()
    assert "지불 일정" in html and "다음 달" in html


# -- AP export ---------------------------------------------------------------------------------------------------


def test_the_ap_export_splits_each_invoice_over_its_lines_cost_centres(world, finance):
    """600 + 200 over two cost centres, 40 on an unknown circuit; the VAT (160) spread with the rest; the approved
    amount to pay (1000 - 0) adds up exactly."""
    from web.invoices import export, services
    from web.invoices.models import Invoice

    services.approve(world["invoice"], finance, withhold_disputed=False)
    table = export.rows(Invoice.objects.all())
    split = {r[8]: r[6] for r in table}
    assert split == {"CC-4100": Decimal("714.29"), "CC-5200": Decimal("238.09"), "": Decimal("47.62")}  # largest remainder
    assert sum(split.values()) == Decimal("1000.00")
    first = next(r for r in table if r[8] == "CC-4100")
    assert first[:6] == ["Colt", "V-100231", "C-1", day("2026-11-30"), day("2026-12-21"), None]
    assert first[7] == "EUR" and first[9] == "6420-TELECOM"


def test_the_ap_export_pays_what_the_approval_left_after_withholding(world, finance):
    from web.invoices import export, services
    from web.invoices.models import Invoice

    dispute_findings(world["colt"], world["invoice"], finance, ["100.00", "5.00"])
    services.approve(world["invoice"], finance, withhold_disputed=True)
    assert sum(r[6] for r in export.rows(Invoice.objects.all())) == Decimal("900.00")


def test_the_csv_export_has_a_bom_english_headers_and_neutralised_text(client, world, finance):
    from web.inventory.models import Carrier
    from web.invoices import services

    Carrier.objects.filter(pk=world["colt"].pk).update(vendor_number="=HYPERLINK(\"x\")")
    services.approve(world["invoice"], finance, withhold_disputed=False)
    response = _login(client, finance).get("/invoices/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["Vendor", "Vendor number", "Invoice", "Invoice date", "Due date", "Payment date",
                       "Amount to pay", "Currency", "Cost centre", "GL account"]
    assert len(rows) == 4 and all(r[1].startswith("'=") for r in rows[1:])


def test_the_export_without_a_state_filter_holds_the_invoices_to_pay_only(client, world, finance):
    make_invoice(world["orange"], "O-AUDITED")
    body = _login(client, finance).get("/invoices/export.csv").content.decode("utf-8")
    assert "O-AUDITED" not in body and "C-1" not in body  # both only audited
    assert "O-AUDITED" in _login(client, finance).get("/invoices/export.csv?state=audited").content.decode()


def test_the_xlsx_export_in_korean_has_typed_cells(client, world, finance):
    from web.invoices import services

    services.approve(world["invoice"], finance, withhold_disputed=False)
    response = _login(client, finance).get("/invoices/export.xlsx", HTTP_ACCEPT_LANGUAGE="ko")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[0] == "거래처" and header[6] == "지불할 금액" and header[8] == "비용 센터"
    assert isinstance(sheet.cell(2, 7).value, (int, float)) and isinstance(sheet.cell(2, 4).value, dt.datetime)


# -- late-fee KPI ----------------------------------------------------------------------------------------------


def test_late_fees_avoided_are_on_time_payments_times_the_carriers_rate(world, finance):
    from web.invoices import kpis, services

    on_time = services.approve(world["invoice"], finance, withhold_disputed=False)  # Colt: 1.5 % per month
    services.mark_paid(on_time, finance, paid_on=day("2026-11-30"), reference="SEPA-1")
    late = services.approve(make_invoice(world["colt"], "C-LATE", due="2026-11-01", rows=[
        {"charge_type": "monthly_recurring", "amount": "500.00"}, {"charge_type": "late_fee", "amount": "7.50"}]),
        finance, withhold_disputed=False)
    services.mark_paid(late, finance, paid_on=day("2026-11-20"), reference="SEPA-2")
    make_invoice(world["orange"], "O-OVERDUE", due="2026-11-15", total="300.00")  # Orange: no rate
    from web.invoices.models import Invoice

    figures = kpis.late_fees(Invoice.objects.select_related("carrier").prefetch_related("rows"),
                             today=day("2026-12-02"))
    assert (figures.paid_on_time_count, figures.paid_on_time_amount) == (1, Decimal("1000.00"))
    assert figures.avoided_amount == Decimal("15.00")
    assert (figures.paid_late_count, figures.billed_amount) == (1, Decimal("7.50"))
    assert (figures.overdue_count, figures.overdue_amount) == (1, Decimal("300.00"))


def test_late_fees_of_two_currencies_are_refused_naming_them(world):
    from web.inventory.models import Carrier
    from web.invoices import kpis
    from web.invoices.models import Invoice

    kt = Carrier.objects.create(name="KT", currency="KRW")
    make_invoice(kt, "K-1", total="1000")
    with pytest.raises(ValueError, match="EUR, KRW"):
        kpis.late_fees(Invoice.objects.all(), today=day("2026-12-02"))
    assert set(kpis.late_fees_by_currency(Invoice.objects.all(), today=day("2026-12-02"))) == {"EUR", "KRW"}
