"""The finance overview in the app: actual costs from an audit report (record_costs), budgets (model rules, CSV
import, pages, API), the chargeback and its CSV/XLSX in the user's language."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D
from typing import Any

import pytest
from finance_support import line_cost, period_report
from openpyxl import load_workbook

from billing_etl.audit import UNKNOWN_DEPARTMENT
from linewatch.choices import BudgetScope

pytestmark = pytest.mark.django_db


@pytest.fixture
def costs(make_inventory: Any) -> dict[str, Any]:
    """make_inventory(4): LINE-000/001 Engineering, LINE-002/003 Sales, all on CC-4100. October and November
    audited; a ghost circuit and an unallocated charge in November."""
    from web.finance.services import record_costs

    inv = make_inventory(4)
    record_costs("2026-10", period_report("2026-10", [
        line_cost("LINE-000", "Engineering", "CC-4100", "100.00", "10.00"),
        line_cost("LINE-002", "Sales", "CC-4100", "50.00")]))
    record_costs("2026-11", period_report("2026-11", [
        line_cost("LINE-000", "Engineering", "CC-4100", "120.00", "12.00"),
        line_cost("LINE-001", "Engineering", "", "30.00"),
        line_cost("LINE-002", "Sales", "CC-4100", "50.00"),
        line_cost("ghost:Colt:X-9", UNKNOWN_DEPARTMENT, "", "75.00", carrier="Colt", circuit="X-9")],
        {("Colt", "EUR"): D("5.00")}))
    return inv


def test_record_costs_links_lines_departments_and_cost_centres_by_name(costs: dict[str, Any]) -> None:
    from web.finance.models import CostActual

    rows = {r.line_name or r.circuit_id or r.carrier_name: r for r in CostActual.objects.filter(period="2026-11")}
    assert set(rows) == {"LINE-000", "LINE-001", "LINE-002", "X-9", "Colt"}
    line0 = rows["LINE-000"]
    assert line0.line == costs["lines"][0] and line0.department.name == "Engineering"
    assert line0.cost_centre == costs["cost_centre"] and line0.amount == D("132.00")
    ghost = rows["X-9"]
    assert ghost.line is None and ghost.department is None and ghost.department_name == ""
    assert rows["Colt"].amount == D("5.00") and rows["Colt"].department_name == ""


def test_record_costs_replaces_the_period_and_logs_the_change(costs: dict[str, Any]) -> None:
    from web.audit.models import ObjectChange
    from web.finance.models import CostActual
    from web.finance.services import record_costs

    before = ObjectChange.objects.count()
    written = record_costs("2026-10", period_report("2026-10", [line_cost("LINE-000", "Engineering", "CC-4100", "99")]))
    assert written == 1
    assert list(CostActual.objects.filter(period="2026-10").values_list("amount", flat=True)) == [D("99.00")]
    assert CostActual.objects.filter(period="2026-11").count() == 5, "other periods untouched"
    assert ObjectChange.objects.count() == before + 3, "two deletions and one creation logged"


BUDGET_ERRORS = [
    ("department scope without department", {"scope": BudgetScope.DEPARTMENT}, "department"),
    ("department scope with a cost centre", {"scope": BudgetScope.DEPARTMENT, "department": 0, "cost_centre": 0},
     "cost_centre"),
    ("cost-centre scope without cost centre", {"scope": BudgetScope.COST_CENTRE}, "cost_centre"),
    ("month 13", {"scope": BudgetScope.DEPARTMENT, "department": 0, "month": 13}, "month"),
    ("negative amount", {"scope": BudgetScope.DEPARTMENT, "department": 0, "amount": D(-1)}, "amount"),
    ("bad currency", {"scope": BudgetScope.DEPARTMENT, "department": 0, "currency": "EURO"}, "currency"),
    ("month beside a year budget", {"scope": BudgetScope.DEPARTMENT, "department": 1, "month": 3}, "month"),
    ("year beside month budgets", {"scope": BudgetScope.DEPARTMENT, "department": 0, "year": 2027}, "month"),
    ("the same budget twice", {"scope": BudgetScope.DEPARTMENT, "department": 1}, "__all__"),
]


@pytest.mark.parametrize(("values", "field"), [(v, f) for _, v, f in BUDGET_ERRORS], ids=[n for n, _, _ in BUDGET_ERRORS])
def test_budget_refuses_naming_the_field(make_inventory: Any, values: dict[str, Any], field: str) -> None:
    from django.core.exceptions import ValidationError

    from web.finance.models import Budget

    inv = make_inventory(1)
    departments = inv["departments"]
    Budget.objects.create(scope=BudgetScope.DEPARTMENT, department=departments[1], year=2026, amount=D(1200),
                          currency="EUR")
    Budget.objects.create(scope=BudgetScope.DEPARTMENT, department=departments[0], year=2027, month=1,
                          amount=D(100), currency="EUR")
    fields = {"year": 2026, "amount": D(100), "currency": "EUR"} | values
    if "department" in fields:
        fields["department"] = departments[fields["department"]]
    if "cost_centre" in fields:
        fields["cost_centre"] = inv["cost_centre"]
    with pytest.raises(ValidationError) as info:
        Budget(**fields).full_clean()
    assert field in info.value.message_dict, info.value.message_dict


GOOD_CSV = ("department,cost_centre,year,month,amount,currency,note\n"
            "Engineering,,2026,,2400.00,EUR,lines\n"
            ",CC-4100,2026,11,150,EUR,\n"
            "Sales,,2026,,1200,EUR,\n")


def test_csv_import_creates_then_updates(costs: dict[str, Any]) -> None:
    from web.finance.imports import import_budgets
    from web.finance.models import Budget

    first = import_budgets(GOOD_CSV.encode())
    assert (first.created, first.updated) == (3, 0)
    result = import_budgets(GOOD_CSV.encode())
    assert (result.created, result.updated) == (0, 3)
    eng = Budget.objects.get(department__name="Engineering")
    assert (eng.scope, eng.month, eng.amount, eng.note) == (BudgetScope.DEPARTMENT, None, D("2400.00"), "lines")
    assert Budget.objects.get(cost_centre__code="CC-4100").scope == BudgetScope.COST_CENTRE


IMPORT_ERRORS = [
    ("unknown column", "department,year,amount,currency,colour\nSales,2026,1,EUR,red\n", 1, "header"),
    ("missing column", "department,year,amount\nSales,2026,1\n", 1, "header"),
    ("unknown department", "department,year,amount,currency\nSales,2026,1,EUR\nMarketing,2026,1,EUR\n", 3,
     "department"),
    ("both targets", "department,cost_centre,year,amount,currency\nSales,CC-4100,2026,1,EUR\n", 2, "department"),
    ("grouped amount", "department,year,amount,currency\nSales,2026,\"1,200\",EUR\n", 2, "amount"),
    ("year not a number", "department,year,amount,currency\nSales,twenty,1,EUR\n", 2, "year"),
    ("month 13", "department,year,month,amount,currency\nSales,2026,13,1,EUR\n", 2, "month"),
    ("required amount", "department,year,amount,currency\nSales,2026,,EUR\n", 2, "amount"),
    ("twice in the file", "department,year,amount,currency\nSales,2026,1,EUR\nSales,2026,2,EUR\n", 3, "row"),
]


@pytest.mark.parametrize(("text", "row", "field"), [(t, r, f) for _, t, r, f in IMPORT_ERRORS],
                         ids=[n for n, _, _, _ in IMPORT_ERRORS])
def test_csv_import_errors_name_row_and_field_and_save_nothing(costs: dict[str, Any], text: str, row: int,
                                                                field: str) -> None:
    from web.finance.imports import BudgetImportError, import_budgets
    from web.finance.models import Budget

    with pytest.raises(BudgetImportError) as info:
        import_budgets(text.encode())
    assert (info.value.errors[0].row, info.value.errors[0].field) == (row, field), info.value.errors
    assert not Budget.objects.exists()


def test_budget_page_shows_variance_and_projection_in_korean(client: Any, costs: dict[str, Any],
                                                             user_with_role: Any) -> None:
    from web.finance.imports import import_budgets

    import_budgets(GOOD_CSV.encode())
    client.force_login(user_with_role("viewer"))
    page = client.get("/finance/budgets/?year=2026", headers={"Accept-Language": "ko"}).content.decode()
    assert "예산" in page and "연말 예상" in page
    # Engineering: Oct 110 + Nov 162 = 272 actual; budget 2400/12 × 2 audited months = 400 to date
    assert "272.00" in page and "400.00" in page


def test_budget_import_page_lists_errors_and_finance_only_may_import(client: Any, costs: dict[str, Any],
                                                                     user_with_role: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(user_with_role("viewer"))
    assert client.get("/finance/budgets/import/").status_code == 403
    client.force_login(user_with_role("finance"))
    bad = SimpleUploadedFile("b.csv", b"department,year,amount,currency\nNobody,2026,1,EUR\n")
    page = client.post("/finance/budgets/import/", {"file": bad}).content.decode()
    assert "row 2, department" in page
    good = SimpleUploadedFile("b.csv", GOOD_CSV.encode())
    assert client.post("/finance/budgets/import/", {"file": good}).status_code == 302


def test_overview_page_renders_budgets_and_empty_kpis(client: Any, costs: dict[str, Any],
                                                      user_with_role: Any) -> None:
    from web.finance.imports import import_budgets

    import_budgets(GOOD_CSV.encode())
    client.force_login(user_with_role("noc"))
    response = client.get("/finance/?year=2026")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="dispute-kpis"' in page and 'id="payment-kpis"' in page and "Engineering" in page


def test_chargeback_page_groups_lines_by_department(client: Any, costs: dict[str, Any], user_with_role: Any) -> None:
    client.force_login(user_with_role("viewer"))
    page = client.get("/finance/chargeback/").content.decode()
    assert "Chargeback 2026-11" in page, "the latest audited period by default"
    table = page[page.index('id="chargeback"'):page.index("</table>", page.index('id="chargeback"'))]
    assert table.index("Engineering") < table.index("Sales") < table.index("Not charged back")
    assert "162.00" in table and "80.00" in table  # Engineering 132 + 30; the ghost 75 + unallocated 5


@pytest.mark.parametrize(("language", "header", "no_department"), [
    ("en", "Department", "Not charged back"), ("ko", "부서", "정산 대상 아님")])
def test_chargeback_csv_in_the_users_language(client: Any, costs: dict[str, Any], user_with_role: Any,
                                              language: str, header: str, no_department: str) -> None:
    client.force_login(user_with_role("finance"))
    response = client.get("/finance/chargeback/export.csv?period=2026-11", headers={"Accept-Language": language})
    assert response["Content-Disposition"] == 'attachment; filename="chargeback-2026-11.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][1] == header and len(rows) == 6
    by_line = {r[3] or r[4] or r[5]: r for r in rows[1:]}
    assert by_line["LINE-000"][6:] == ["120.00", "12.00", "132.00", "EUR"]
    assert by_line["X-9"][1] == no_department


def test_chargeback_xlsx_has_departments_and_lines_sheets(client: Any, costs: dict[str, Any],
                                                          user_with_role: Any) -> None:
    client.force_login(user_with_role("viewer"))
    response = client.get("/finance/chargeback/export.xlsx?period=2026-10", headers={"Accept-Language": "ko"})
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["부서", "회선"]
    departments = list(book["부서"].values)
    assert departments[1][:4] == ("2026-10", "Engineering", "CC-4100", 1)
    assert float(departments[1][6]) == 110.0


def test_chargeback_refuses_a_malformed_period(client: Any, costs: dict[str, Any], user_with_role: Any) -> None:
    client.force_login(user_with_role("viewer"))
    assert client.get("/finance/chargeback/?period=2026-13").status_code == 404


API_BUDGET = {"scope": "department", "year": 2026, "amount": "1200.00", "currency": "EUR"}


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("admin", 403), ("finance", 201)])
def test_api_budget_write_is_finance_only(client: Any, costs: dict[str, Any], user_with_role: Any, role: str,
                                          status: int) -> None:
    client.force_login(user_with_role(role))
    body = API_BUDGET | {"department": costs["departments"][0].pk}
    assert client.post("/api/finance/budgets/", body, content_type="application/json").status_code == status


def test_api_budget_error_names_the_field(client: Any, costs: dict[str, Any], user_with_role: Any) -> None:
    client.force_login(user_with_role("finance"))
    response = client.post("/api/finance/budgets/", API_BUDGET, content_type="application/json")
    assert response.status_code == 400 and "department" in response.json()


def test_api_kpis_give_the_budget_status(client: Any, costs: dict[str, Any], user_with_role: Any) -> None:
    from web.finance.imports import import_budgets

    import_budgets(GOOD_CSV.encode())
    client.force_login(user_with_role("engineer"))
    data = client.get("/api/finance/kpis/?year=2026").json()
    eng = next(b for b in data["budgets"] if b["target"] == "Engineering")
    assert (eng["through"], eng["actual_to_date"], eng["budget_to_date"]) == (11, "272.0000", "400.0000")
    assert D(eng["projection"]) == D("272.00") + (D(110) + D(162)) / 2 * 10  # the 10 months not audited
    assert data["disputes"] == [] and data["payments"] == []
