"""Roles are groups created by a migration, each with its model permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from linewatch.choices import Role
from web.accounts.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_role_group_holds_exactly_its_permissions(role):
    group = Group.objects.get(name=role.value)
    have = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert have == ROLE_PERMISSIONS[role]


ACCESS = [
    ("viewer", "inventory.view_line", True), ("viewer", "inventory.change_line", False),
    ("viewer", "audit.view_objectchange", True), ("viewer", "inventory.add_contract", False),
    ("noc", "inventory.change_line", True), ("noc", "inventory.add_line", False),
    ("engineer", "inventory.add_line", True), ("engineer", "inventory.change_device", True),
    ("engineer", "inventory.change_contract", False),
    ("finance", "inventory.change_contract", True), ("finance", "inventory.add_discount", True),
    ("finance", "inventory.change_device", False),
    ("admin", "inventory.delete_line", True), ("admin", "auth.change_user", True),
    ("admin", "audit.change_objectchange", False), ("admin", "audit.delete_objectchange", False),
]


@pytest.mark.parametrize(("role", "perm", "allowed"), ACCESS, ids=[f"{r}-{p}" for r, p, _ in ACCESS])
def test_role_permissions(user_with_role, role, perm, allowed):
    assert user_with_role(role).has_perm(perm) is allowed


def test_passwords_are_hashed_with_argon2(django_user_model):
    user = django_user_model.objects.create_user("kim", password="correct horse battery")
    assert user.password.startswith("argon2")


# -- role x endpoint: each page and API endpoint answers each role as the role table says ------------------------
# "anonymous": no login; None: logged in, in no group. Pages send the anonymous to the login page (302), the API
# answers 401. /-/health is open to everyone (the container health check).
ROLES = ["anonymous", None, "viewer", "noc", "engineer", "finance", "admin"]
_ADMIN_PAGE = {"anonymous": 302, None: 403, "viewer": 403, "noc": 403, "engineer": 403, "finance": 403, "admin": 200}
_ADMIN_API = _ADMIN_PAGE | {"anonymous": 401}
ENDPOINTS = {
    "/accounts/tokens/": _ADMIN_PAGE,
    "/accounts/tokens/{token}/revoke/": _ADMIN_PAGE,
    "/api/accounts/tokens/": _ADMIN_API,
    "/api/accounts/tokens/{token}/": _ADMIN_API,
    "/audit/logins/": _ADMIN_PAGE,
    "/audit/logins/export.csv": _ADMIN_PAGE,
    "/api/audit/logins/": _ADMIN_API,
    "/-/health": dict.fromkeys(ROLES, 200),
    # web/notify: the outbox is the admins'; engineers and the NOC edit a carrier's message templates.
    "/notify/outbox/": _ADMIN_PAGE,
    "/notify/templates/": _ADMIN_PAGE | {"noc": 200, "engineer": 200},
    "/notify/templates/add/": _ADMIN_PAGE | {"noc": 200, "engineer": 200},
    "/api/notify/outbox/": _ADMIN_API,
    "/api/notify/templates/": _ADMIN_API | {"noc": 200, "engineer": 200},
}
ENDPOINT_CASES = [(role, url) for url in ENDPOINTS for role in ROLES]


@pytest.mark.parametrize(("role", "url"), ENDPOINT_CASES, ids=[f"{r or 'none'}-{u}" for r, u in ENDPOINT_CASES])
def test_role_endpoint_access(client, user_with_role, role, url):
    from web.accounts.tokens import Token

    token, _ = Token.create(user=user_with_role("engineer"), name="table")
    if role != "anonymous":
        client.force_login(user_with_role(role))
    assert client.get(url.format(token=token.pk)).status_code == ENDPOINTS[url][role]


# -- role x endpoint: the inventory's pages (lists, detail pages, add and edit forms) ---------------------------
def _page_for(*roles: str) -> dict[str | None, int]:
    return {"anonymous": 302, None: 403} | {r: 200 if r in roles else 403 for r in ROLES[2:]}


_EVERY_ROLE = _page_for("viewer", "noc", "engineer", "finance", "admin")
_ENGINEER = _page_for("engineer", "admin")
_FINANCE = _page_for("finance", "admin")
INVENTORY_PAGES = {
    "/inventory/lines/": _EVERY_ROLE, "/inventory/lines/{line}/": _EVERY_ROLE,
    "/inventory/lines/add/": _ENGINEER, "/inventory/lines/{line}/edit/": _page_for("noc", "engineer", "admin"),
    "/inventory/lines/export.csv": _EVERY_ROLE, "/inventory/lines/export.xlsx": _EVERY_ROLE,
    "/inventory/carriers/": _EVERY_ROLE, "/inventory/carriers/{carrier}/": _EVERY_ROLE,
    "/inventory/carriers/add/": _FINANCE, "/inventory/carriers/{carrier}/edit/": _FINANCE,
    "/inventory/sites/": _EVERY_ROLE, "/inventory/sites/{site}/": _EVERY_ROLE,
    "/inventory/sites/add/": _ENGINEER, "/inventory/sites/{site}/edit/": _ENGINEER,
    "/inventory/devices/": _EVERY_ROLE, "/inventory/devices/{device}/": _EVERY_ROLE,
    "/inventory/devices/add/": _ENGINEER, "/inventory/devices/{device}/edit/": _ENGINEER,
    "/inventory/contracts/{contract}/": _EVERY_ROLE,
    "/inventory/contracts/add/": _FINANCE, "/inventory/contracts/{contract}/edit/": _FINANCE,
    "/inventory/rows/members/?members-TOTAL_FORMS=1": _ENGINEER,  # "Add a row" of the inline tables
    "/inventory/rows/contacts/?contacts-TOTAL_FORMS=1": _FINANCE,
    "/inventory/rows/tiers/?tiers-TOTAL_FORMS=1": _FINANCE,
    "/inventory/rows/capacity_changes/?capacity_changes-TOTAL_FORMS=1": _ENGINEER,
    "/inventory/rows/changes/?changes-TOTAL_FORMS=1": _FINANCE,
    # Planned maintenance: the NOC records it too (the carriers call them).
    "/inventory/maintenance/": _EVERY_ROLE, "/inventory/maintenance/{window}/": _EVERY_ROLE,
    "/inventory/maintenance/add/": _page_for("noc", "engineer", "admin"),
    "/inventory/maintenance/{window}/edit/": _page_for("noc", "engineer", "admin"),
    "/inventory/maintenance/lines/?carrier={carrier}": _page_for("noc", "engineer", "admin"),
}


@pytest.mark.parametrize("url", INVENTORY_PAGES)
def test_role_inventory_page_access(client, user_with_role, make_inventory, url):
    """Every role on one page (the inventory built once per page: the table stays cheap to run)."""
    from decimal import Decimal

    from datetime import timedelta

    from django.utils import timezone

    from web.inventory.models import Contract, PlannedMaintenance

    inv = make_inventory(1)
    contract = Contract.objects.create(line=inv["lines"][0], mrc=Decimal(10))
    window = PlannedMaintenance.objects.create(starts=timezone.now(), ends=timezone.now() + timedelta(hours=1))
    page = url.format(line=inv["lines"][0].pk, carrier=inv["carriers"][0].pk, site=inv["sites"][0].pk,
                      device=inv["device"].pk, contract=contract.pk, window=window.pk)
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(page).status_code
    assert answers == INVENTORY_PAGES[url]


# -- role x endpoint: documents follow their parent (view: see, download; change of the whole parent: attach,
# delete) on the pages and the API alike; expectations from the role table, not from the code under test.
def _may_change_whole(role: str | None, parent: str) -> bool:
    if role in ("anonymous", None):
        return False
    perms = ROLE_PERMISSIONS[Role(role)]
    # The NOC's change of a line is its status only (CHANGE_ONLY_FIELDS): no documents.
    return ("inventory", f"change_{parent}") in perms and (parent != "line" or ("inventory", "add_line") in perms)


def _document_expected(role: str | None, kind: str, allowed: bool) -> int:
    if role == "anonymous":
        return 302 if kind.startswith("page") else 401
    if not allowed:
        return 403
    return {"page-get": 200, "page-post": 302, "api-get": 200, "api-post": 201, "api-delete": 204}[kind]


# (method, url, kind, needs the change permission)
DOCUMENT_ENDPOINTS = [
    ("get", "/inventory/documents/add/?{parent}={parent_pk}", "page-get", True),
    ("post", "/inventory/documents/add/", "page-post", True),
    ("get", "/inventory/documents/{document}/download/", "page-get", False),
    ("get", "/inventory/documents/{document}/delete/", "page-get", True),
    ("post", "/inventory/documents/{document}/delete/", "page-post", True),
    ("get", "/api/inventory/documents/", "api-get", False),
    ("get", "/api/inventory/documents/{document}/", "api-get", False),
    ("get", "/api/inventory/documents/{document}/download/", "api-get", False),
    ("post", "/api/inventory/documents/", "api-post", True),
    ("delete", "/api/inventory/documents/{document}/", "api-delete", True),
]
DOCUMENT_CASES = [(parent, *endpoint) for endpoint in DOCUMENT_ENDPOINTS for parent in ("line", "carrier", "contract")]


@pytest.mark.parametrize(("parent", "method", "url", "kind", "needs_change"), DOCUMENT_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in DOCUMENT_CASES])
def test_role_document_endpoint_access(user_with_role, make_inventory, parent, method, url, kind, needs_change):
    """Every role in turn on one endpoint and parent (the inventory built once; each role gets a document of its
    own, so a deletion or an upload by one role does not change what the next one finds)."""
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from document_samples import pdf

    from web.inventory import documents
    from web.inventory.models import Contract

    inv = make_inventory(1)
    parents = {"line": inv["lines"][0], "carrier": inv["carriers"][0],
               "contract": Contract.objects.create(line=inv["lines"][0], mrc=Decimal(10))}
    answers, expected = {}, {}
    for role in ROLES:
        document = documents.add_document(documents.prepare_document(
            **{parent: parents[parent]}, kind="contract", title="",
            upload=SimpleUploadedFile("a.pdf", pdf() + f"% {role}".encode())), user=None)
        client = Client()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        target = url.format(parent=parent, parent_pk=parents[parent].pk, document=document.pk)
        if method == "post" and "delete" not in target:  # an upload
            response = client.post(target, {parent: parents[parent].pk,
                                            "file": SimpleUploadedFile("b.pdf", pdf() + f"% {role} b".encode())})
        else:
            response = getattr(client, method)(target)
        answers[role] = response.status_code
        allowed = _may_change_whole(role, parent) if needs_change else role not in ("anonymous", None)
        expected[role] = _document_expected(role, kind, allowed)
    assert answers == expected


# -- role x endpoint: orders (web/orders); the moves themselves per role: tests/web/test_orders_workflow.py --------
def _api_for(*roles: str) -> dict[str | None, int]:
    return _page_for(*roles) | {"anonymous": 401}


_REQUESTERS = _page_for("noc", "engineer", "finance", "admin")
ORDER_ENDPOINTS = {
    "/orders/": _EVERY_ROLE, "/orders/?mine=true": _EVERY_ROLE, "/orders/{order}/": _EVERY_ROLE,
    "/orders/new/new_line/": _REQUESTERS, "/orders/new/change/": _REQUESTERS,
    "/orders/new/termination/": _REQUESTERS,
    "/api/orders/": _api_for("viewer", "noc", "engineer", "finance", "admin"),
    "/api/orders/{order}/": _api_for("viewer", "noc", "engineer", "finance", "admin"),
    "/api/orders/steps/": _api_for("viewer", "noc", "engineer", "finance", "admin"),
    "/api/orders/recovery-items/": _api_for("viewer", "noc", "engineer", "finance", "admin"),
}


@pytest.mark.parametrize("url", ORDER_ENDPOINTS)
def test_role_order_endpoint_access(client, user_with_role, make_inventory, url):
    import datetime as dt

    from linewatch.choices import OrderKind
    from web.orders.services import create_order

    inv = make_inventory(1)
    order = create_order(kind=OrderKind.TERMINATION, user=None,
                         values={"line": inv["lines"][0], "requested_date": dt.date(2030, 1, 1)})
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(order=order.pk)).status_code
    assert answers == ORDER_ENDPOINTS[url]


# -- role x endpoint: inspections (web/inspections) and the fault figures; performing per role:
# tests/web/test_inspections.py ---------------------------------------------------------------------------------
_PERFORMERS = _page_for("noc", "engineer", "admin")
_EVERY_API = _api_for("viewer", "noc", "engineer", "finance", "admin")
INSPECTION_ENDPOINTS = {
    "/inspections/": _EVERY_ROLE, "/inspections/plans/": _EVERY_ROLE, "/inspections/plans/{plan}/": _EVERY_ROLE,
    "/inspections/plans/add/": _ENGINEER, "/inspections/plans/{plan}/edit/": _ENGINEER,
    "/inspections/inspections/{inspection}/": _EVERY_ROLE,
    "/inspections/inspections/{inspection}/perform/": _PERFORMERS,
    "/api/inspections/plans/": _EVERY_API, "/api/inspections/plans/{plan}/": _EVERY_API,
    "/api/inspections/inspections/": _EVERY_API, "/api/inspections/inspections/{inspection}/": _EVERY_API,
    "/faults/figures/": _EVERY_ROLE, "/faults/figures/?month=2026-11": _EVERY_ROLE,
}


@pytest.mark.parametrize("url", INSPECTION_ENDPOINTS)
def test_role_inspection_endpoint_access(client, user_with_role, make_inventory, url):
    import datetime as dt

    from web.inspections import services
    from web.inspections.models import InspectionPlan

    inv = make_inventory(1)
    plan = InspectionPlan.objects.create(name="p", site=inv["sites"][0], checklist=["Rack"], interval_days=7,
                                         next_due=dt.date(2030, 1, 1))
    inspection = services.schedule(plan)
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(plan=plan.pk, inspection=inspection.pk)).status_code
    assert answers == INSPECTION_ENDPOINTS[url]


# -- role x endpoint: fault tickets (web/faults, docs/faults.md "Who may do what") ----------------------------------
_EVERY_API = _EVERY_ROLE | {"anonymous": 401}
_FINANCE_API = _FINANCE | {"anonymous": 401}
FAULT_PAGES = {
    "/faults/": _EVERY_ROLE, "/faults/add/": _EVERY_ROLE, "/faults/{ticket}/": _EVERY_ROLE,
    "/faults/causes/": _EVERY_ROLE, "/faults/claims/": _FINANCE,
    "/api/faults/tickets/": _EVERY_API, "/api/faults/tickets/{ticket}/": _EVERY_API,
    "/api/faults/claims/": _FINANCE_API,
}


@pytest.mark.parametrize("url", FAULT_PAGES)
def test_role_fault_page_access(client, user_with_role, make_inventory, url):
    from web.faults import services

    ticket = services.open_ticket(acting_user=None, kind="line_down", line=make_inventory(1)["lines"][0])
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(ticket=ticket.pk)).status_code
    assert answers == FAULT_PAGES[url]


_WORKERS = ("noc", "engineer", "admin")  # who works a ticket (faults.change_ticket)
FAULT_POSTS = {  # a step on a fresh open ticket per role: (url, body, answer when allowed, login/401 when anonymous)
    "page-start_work": ("/faults/{ticket}/step/start_work/", {}, 302, 302),
    "api-start_work": ("/api/faults/tickets/{ticket}/transition/", {"step": "start_work"}, 200, 401),
    "page-comment": ("/faults/{ticket}/comment/", {"text": "still down"}, 302, 302),
    "api-comment": ("/api/faults/tickets/{ticket}/comment/", {"text": "still down"}, 201, 401),
}


@pytest.mark.parametrize("case", FAULT_POSTS)
def test_role_fault_step_access(client, user_with_role, make_inventory, case):
    from web.faults import services

    url, body, ok, anonymous = FAULT_POSTS[case]
    line = make_inventory(1)["lines"][0]
    workers = _WORKERS if "start_work" in case else ("viewer", "noc", "engineer", "finance", "admin")
    answers, expected = {}, {}
    for role in ROLES:
        ticket = services.open_ticket(acting_user=None, kind="line_down", line=line)
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        kwargs = {"content_type": "application/json"} if url.startswith("/api/") else {}
        answers[role] = client.post(url.format(ticket=ticket.pk), body, **kwargs).status_code
        expected[role] = anonymous if role == "anonymous" else ok if role in workers else 403
    assert answers == expected


# -- role x endpoint: the finance overview (web/finance, docs/finance.md): every role reads; finance keeps budgets --
_FINANCE_ONLY = _page_for("finance")
FINANCE_ENDPOINTS = {
    "/finance/": _EVERY_ROLE, "/finance/?year=2026": _EVERY_ROLE, "/finance/budgets/": _EVERY_ROLE,
    "/finance/budgets/add/": _FINANCE_ONLY, "/finance/budgets/import/": _FINANCE_ONLY,
    "/finance/budgets/{budget}/edit/": _FINANCE_ONLY,
    "/finance/chargeback/": _EVERY_ROLE, "/finance/chargeback/export.csv": _EVERY_ROLE,
    "/finance/chargeback/export.xlsx": _EVERY_ROLE,
    "/api/finance/budgets/": _EVERY_API, "/api/finance/budgets/{budget}/": _EVERY_API,
    "/api/finance/actuals/": _EVERY_API, "/api/finance/kpis/": _EVERY_API,
}


@pytest.mark.parametrize("url", FINANCE_ENDPOINTS)
def test_role_finance_endpoint_access(client, user_with_role, make_inventory, url):
    from web.finance.models import Budget

    department = make_inventory(1)["departments"][0]
    budget = Budget.objects.create(scope="department", department=department, year=2026, amount=1200, currency="EUR")
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(budget=budget.pk)).status_code
    assert answers == FINANCE_ENDPOINTS[url]


# -- role x endpoint: credits (web/credits, docs/credits.md): everyone reads; the decisions per role are
# tests/web/test_credits.py's -----------------------------------------------------------------------------------
CREDIT_ENDPOINTS = {
    "/credits/": _EVERY_ROLE, "/credits/{match}/": _EVERY_ROLE,
    "/api/credits/": _EVERY_API, "/api/credits/matches/": _EVERY_API, "/api/credits/matches/{match}/": _EVERY_API,
    "/api/credits/unmatched/": _EVERY_API,
}


@pytest.mark.parametrize("url", CREDIT_ENDPOINTS)
def test_role_credit_endpoint_access(client, user_with_role, make_inventory, url):
    from credits_support import dispute_of, invoice_with

    from web.credits import services

    carrier = make_inventory(1)["carriers"][0]
    dispute_of(carrier, circuit_id="CID-00000", amount="50.00")
    invoice_with(carrier, "INV-2", [{"amount": "-50.00", "circuit_id": "CID-00000"}])
    (match,) = services.propose_matches()
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(match=match.pk)).status_code
    assert answers == CREDIT_ENDPOINTS[url]


# -- role x endpoint: the invoice intake (web/intake, docs/intake.md): finance and admins see it, finance uploads;
# the retry (admins) per role is tests/web/test_intake_pages.py's ----------------------------------------------
INTAKE_ENDPOINTS = {
    "/intake/": _FINANCE, "/intake/messages/": _FINANCE, "/intake/files/{file}/": _FINANCE,
    "/intake/upload/": _page_for("finance"),
    "/api/intake/files/": _FINANCE_API, "/api/intake/files/{file}/": _FINANCE_API,
    "/api/intake/messages/": _FINANCE_API,
}


@pytest.mark.parametrize("url", INTAKE_ENDPOINTS)
def test_role_intake_endpoint_access(client, user_with_role, url):
    from django.utils import timezone

    from web.intake.models import IntakeFile

    row = IntakeFile.objects.create(sha256="0" * 64, filename="acme.csv", source="folder", outcome="rejected",
                                    reason="no carrier", collected_at=timezone.now())
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(file=row.pk)).status_code
    assert answers == INTAKE_ENDPOINTS[url]


# -- role x endpoint: findings and disputes (web/findings, docs/disputes.md): everyone reads; finance and admins
# keep the suppression rules; the moves per role are tests/web/test_findings*.py's and test_disputes*.py's --------
FINDING_ENDPOINTS = {
    "/findings/": _EVERY_ROLE, "/findings/?state=new&present=true": _EVERY_ROLE, "/findings/{finding}/": _EVERY_ROLE,
    "/findings/suppressions/": _EVERY_ROLE, "/findings/suppressions/add/": _FINANCE,
    "/findings/suppressions/add/?finding={finding}": _FINANCE, "/findings/suppressions/{rule}/edit/": _FINANCE,
    "/findings/disputes/": _EVERY_ROLE, "/findings/disputes/{dispute}/": _EVERY_ROLE,
    "/findings/disputes/{dispute}/evidence/pdf/": _EVERY_ROLE,
    "/findings/disputes/{dispute}/evidence/xlsx/": _EVERY_ROLE,
    "/api/findings/": _EVERY_API, "/api/findings/{finding}/": _EVERY_API,
    "/api/findings/suppressions/": _EVERY_API, "/api/findings/suppressions/{rule}/": _EVERY_API,
    "/api/findings/disputes/": _EVERY_API, "/api/findings/disputes/{dispute}/": _EVERY_API,
}


@pytest.mark.parametrize("url", FINDING_ENDPOINTS)
def test_role_finding_endpoint_access(client, user_with_role, make_inventory, settings, tmp_path, url):
    import datetime as dt
    from decimal import Decimal

    from billing_etl.audit import Finding as AuditFinding
    from linewatch.choices import AuditRule
    from web.findings import evidence, services
    from web.findings.models import SuppressionRule

    settings.STATE_DIR = tmp_path
    carrier = make_inventory(1)["carriers"][0]
    audit = AuditFinding(AuditRule.LATE_FEE, carrier.name, "INV-1", "", "", Decimal("30.00"), "late fee",
                         currency="EUR")
    [finding] = services.record_audit("2026-10", [audit]).new
    dispute = services.open_dispute([finding], None)
    evidence.store_pack(dispute, evidence.EvidencePack(pdf=b"%PDF-1.7 test", xlsx=b"PK test",
                                                       pdf_name="DSP-evidence.pdf", xlsx_name="DSP-evidence.xlsx"))
    rule = SuppressionRule.objects.create(rule=AuditRule.LATE_FEE, reason="waived", expires_on=dt.date(2030, 1, 1))
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(finding=finding.pk, dispute=dispute.pk, rule=rule.pk)).status_code
    assert answers == FINDING_ENDPOINTS[url]


# -- role x endpoint: invoices (web/invoices, docs/invoices.md): everyone reads them; approving and paying per role
# (finance only) is tests/web/test_invoices_workflow.py's and tests/web/test_invoices_pages.py's -------------------
INVOICE_ENDPOINTS = {
    "/invoices/": _EVERY_ROLE, "/invoices/?overdue=true": _EVERY_ROLE, "/invoices/{invoice}/": _EVERY_ROLE,
    "/invoices/calendar/": _EVERY_ROLE, "/invoices/calendar/?month=2026-12": _EVERY_ROLE,
    "/invoices/export.csv": _EVERY_ROLE, "/invoices/export.xlsx": _EVERY_ROLE,
    "/api/invoices/": _EVERY_API, "/api/invoices/{invoice}/": _EVERY_API,
}


@pytest.mark.parametrize("url", INVOICE_ENDPOINTS)
def test_role_invoice_endpoint_access(client, user_with_role, make_inventory, url):
    from invoices_support import make_invoice

    invoice = make_invoice(make_inventory(1)["carriers"][0])
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(invoice=invoice.pk)).status_code
    assert answers == INVOICE_ENDPOINTS[url]


# -- role x endpoint: voice (web/voice, docs/web.md "Voice"): every role reads the trunks, the directory, the rate
# plans and the cost per department; the individual calls are not the viewer's; engineers, finance and admins keep
# the directory. The pages answer without a call store or InfluxDB (they say so).
_DIRECTORY_KEEPERS = _page_for("engineer", "finance", "admin")
_CALL_READERS = _page_for("noc", "engineer", "finance", "admin")
VOICE_ENDPOINTS = {
    "/voice/": _EVERY_ROLE, "/voice/rate-plans/": _EVERY_ROLE, "/voice/departments/": _EVERY_ROLE,
    "/voice/departments/?period=2026-11": _EVERY_ROLE,
    "/voice/calls/": _CALL_READERS, "/voice/calls/?day=2026-11-16&outcome=blocked": _CALL_READERS,
    "/voice/calls/export.csv": _CALL_READERS, "/voice/calls/export.xlsx": _CALL_READERS,
    "/voice/extensions/": _EVERY_ROLE, "/voice/extensions/export.csv": _EVERY_ROLE,
    "/voice/extensions/add/": _DIRECTORY_KEEPERS, "/voice/extensions/import/": _DIRECTORY_KEEPERS,
    "/voice/extensions/{extension}/edit/": _DIRECTORY_KEEPERS,
    "/voice/extensions/{extension}/delete/": _DIRECTORY_KEEPERS,
    "/api/voice/": _EVERY_API | {None: 200},  # the API root: any logged-in user (as every app's)
    "/api/voice/extensions/": _EVERY_API, "/api/voice/extensions/{extension}/": _EVERY_API,
    "/api/voice/calls/": _CALL_READERS | {"anonymous": 401},  # permitted: no call store yet is no calls (200)
}


@pytest.mark.parametrize("url", VOICE_ENDPOINTS)
def test_role_voice_endpoint_access(client, user_with_role, make_inventory, tmp_path, settings, url):
    from web.voice.models import Extension

    voice_yaml = tmp_path / "voice.yaml"
    voice_yaml.write_text("store_path: calls.sqlite\n", encoding="utf-8")  # no call store yet
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"voice_path": voice_yaml})
    extension = Extension.objects.create(number="3101", department=make_inventory(1)["departments"][0])
    answers = {}
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(user_with_role(role))
        answers[role] = client.get(url.format(extension=extension.pk)).status_code
    assert answers == VOICE_ENDPOINTS[url]
