"""The findings' pages and API (web/findings/views.py, api/views.py): bulk accept with one reason, a dispute opened
from a selection, the moves offered per role, the same refusals in page and API (403 naming the roles, 409, 400
naming the field), the SLA-credit claim linked from its finding, the Korean page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from billing_etl.audit import Finding as EtlFinding
from linewatch.choices import AuditRule, DisputeState, FindingState

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]
ROLES = ("viewer", "noc", "engineer", "finance", "admin")
D = Decimal


@pytest.fixture
def people(user_with_role) -> dict[str, Any]:
    return {role: user_with_role(role) for role in ROLES}


@pytest.fixture
def rows(make_inventory) -> list[Any]:
    """Three new findings of Telia (EUR) and one of Colt."""
    from web.findings.services import record_audit

    inv = make_inventory(4)
    made = []
    for i, (line, rule) in enumerate(((0, AuditRule.RATE_MISMATCH), (2, AuditRule.LATE_FEE),
                                      (0, AuditRule.SLA_CREDIT_OWED), (1, AuditRule.RATE_MISMATCH))):
        x = inv["lines"][line]
        made.append(EtlFinding(rule, x.carrier.name, f"INV-{line}", x.name, x.circuit_id, D(10 * (i + 1)),
                               f"reason {i}", currency="EUR", charge_key=f"{i:016x}"))
    record_audit("2026-10", made)
    from web.findings.models import Finding

    return list(Finding.objects.order_by("pk"))


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def states(rows: list[Any]) -> list[str]:
    for r in rows:
        r.refresh_from_db()
    return [r.state for r in rows]


def test_finance_accepts_the_selected_findings_with_one_reason(people, rows):
    response = login(people["finance"]).post("/findings/bulk/", {
        "finding": [rows[0].pk, rows[1].pk], "action": "accept", "accept-reason": "price list agreed"})
    assert response.status_code == 302
    assert states(rows) == ["accepted", "accepted", "new", "new"]
    assert {r.state_reason for r in rows[:2]} == {"price list agreed"}


@pytest.mark.parametrize(
    ("role", "data", "status"),
    [
        pytest.param("viewer", {"accept-reason": "fine"}, 403, id="viewer"),
        pytest.param("admin", {"accept-reason": "fine"}, 403, id="admin-does-not-triage"),
        pytest.param("finance", {"accept-reason": ""}, 400, id="no-reason"),
    ],
)
def test_bulk_accept_refused_changes_nothing(people, rows, role, data, status):
    response = login(people[role]).post("/findings/bulk/", {"finding": [rows[0].pk], "action": "accept", **data})
    assert response.status_code == status
    assert states(rows) == ["new"] * 4


def test_a_dispute_opened_from_the_selection_lands_on_its_page(people, rows):
    from web.findings.models import Dispute

    client = login(people["finance"])
    response = client.post("/findings/bulk/", {"finding": [rows[0].pk, rows[1].pk], "action": "dispute"})
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response["Location"] == dispute.get_absolute_url()
    assert dispute.claimed_amount == D("30.00") and dispute.state == DisputeState.DRAFT
    page = client.get(dispute.get_absolute_url()).content.decode()
    assert dispute.reference in page and rows[0].display_id in page and "move-send" in page
    assert "none: add a billing contact" in page  # the carrier has none yet


def test_a_selection_of_two_carriers_is_refused_with_the_reason(people, rows):
    response = login(people["finance"]).post("/findings/bulk/", {"finding": [rows[0].pk, rows[3].pk],
                                                                 "action": "dispute"})
    assert response.status_code == 400 and "one carrier" in response.content.decode()
    assert states(rows) == ["new"] * 4


def test_sending_without_a_billing_contact_says_so(people, rows):
    from web.findings.services import open_dispute

    dispute = open_dispute(rows[:1], people["finance"])
    response = login(people["finance"]).post(f"/findings/disputes/{dispute.pk}/transition/", {"transition": "send"})
    assert response.status_code == 400 and "no billing contact" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.DRAFT


@pytest.mark.parametrize("role", ROLES)
def test_the_finding_page_offers_only_the_roles_moves(people, rows, role):
    page = login(people[role]).get(f"/findings/{rows[0].pk}/").content.decode()
    assert ("move-accept" in page) is (role == "finance")
    assert ("move-dispute" in page) is (role == "finance")
    assert ("Add a suppression rule like this finding" in page) is (role in ("finance", "admin"))


def test_the_finding_page_moves_accept_then_reopen(people, rows):
    client = login(people["finance"])
    url = f"/findings/{rows[0].pk}/transition/"
    assert client.post(url, {"transition": "accept", "accept-reason": ""}).status_code == 400
    assert client.post(url, {"transition": "accept", "accept-reason": "checked"}).status_code == 302
    assert "move-reopen" in client.get(f"/findings/{rows[0].pk}/").content.decode()
    assert client.post(url, {"transition": "accept", "accept-reason": "again"}).status_code == 409
    assert client.post(url, {"transition": "reopen"}).status_code == 302
    assert states(rows[:1]) == ["new"]


def test_the_sla_finding_links_its_claim(people, rows):
    from web.faults.models import SlaClaim

    sla = rows[2]
    claim = SlaClaim.objects.create(line=sla.line, period="2026-10", availability_pct=D("99.1"), target_pct=D("99.9"),
                                    credit_pct=D("10"), amount=D("31.00"), currency="EUR", outage_s=24000)
    page = login(people["viewer"]).get(f"/findings/{sla.pk}/").content.decode()
    assert claim.get_absolute_url() in page and "sla-claim" in page


def test_a_suppression_rule_is_added_from_a_finding(people, rows):
    from web.findings.models import SuppressionRule

    client = login(people["finance"])
    form = client.get(f"/findings/suppressions/add/?finding={rows[1].pk}").content.decode()
    assert 'value="late_fee" selected' in form
    response = client.post("/findings/suppressions/add/", {"rule": "late_fee", "line": rows[1].line_id,
                                                           "reason": "waived every month", "expires_on": ""})
    assert response.status_code == 400 and not SuppressionRule.objects.exists()
    response = client.post("/findings/suppressions/add/", {"rule": "late_fee", "line": rows[1].line_id,
                                                           "reason": "waived every month",
                                                           "expires_on": "2027-06-30"})
    assert response.status_code == 302
    rule = SuppressionRule.objects.get()
    assert rule.created_by_name == people["finance"].username and rule.expires_on.isoformat() == "2027-06-30"


# -- the API: the same refusals ----------------------------------------------------------------------------------


def api_post(user: Any, url: str, body: dict[str, Any]) -> Any:
    return login(user).post(url, body, content_type="application/json")


@pytest.mark.parametrize(
    ("role", "body", "status", "key"),
    [
        pytest.param("viewer", {"transition": "accept", "reason": "ok"}, 403, "roles", id="viewer-403"),
        pytest.param("finance", {"transition": "accept", "reason": ""}, 400, "reason", id="no-reason-400"),
        pytest.param("finance", {"transition": "reopen"}, 409, "detail", id="reopen-new-409"),
        pytest.param("finance", {"transition": "explode"}, 400, "transition", id="unknown-400"),
    ],
)
def test_finding_transition_refusals(people, rows, role, body, status, key):
    response = api_post(people[role], f"/api/findings/{rows[0].pk}/transition/", body)
    assert response.status_code == status and key in response.json()
    if status == 403:
        assert response.json()["roles"] == ["finance"]
    assert states(rows[:1]) == ["new"]


def test_api_bulk_accept_then_a_dispute_of_the_rest(people, rows):
    finance = people["finance"]
    response = api_post(finance, "/api/findings/bulk-accept/", {"findings": [rows[1].pk], "reason": "waived"})
    assert response.status_code == 200 and response.json()[0]["state"] == FindingState.ACCEPTED
    response = api_post(finance, "/api/findings/disputes/", {"findings": [rows[0].pk, rows[2].pk]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == f"DSP-{body['id']}" and body["claimed_amount"] == "40.0000"
    assert body["transitions"] == ["send"]
    dispute_id = body["id"]
    answer = api_post(finance, f"/api/findings/disputes/{dispute_id}/transition/",
                      {"transition": "answer", "answer": "no"})
    assert answer.status_code == 409
    resolve = api_post(finance, f"/api/findings/disputes/{dispute_id}/transition/", {"transition": "resolve_dispute"})
    assert resolve.status_code == 400 and set(resolve.json()) == {"outcome", "recovered_amount"}
    viewer = login(people["viewer"]).get(f"/api/findings/disputes/{dispute_id}/").json()
    assert viewer["transitions"] == [] and viewer["findings"] == [rows[0].pk, rows[2].pk]


def test_api_lists_filter_by_state_and_rule(people, rows):
    client = login(people["viewer"])
    late = client.get("/api/findings/?rule=late_fee").json()
    assert [r["id"] for r in late["results"]] == [rows[1].pk]
    assert client.get("/api/findings/?state=accepted").json()["count"] == 0


def test_the_findings_list_in_korean(people, rows):
    client = login(people["finance"])
    page = client.get("/findings/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "감사 결과" in page and "요금 불일치" in page and "선택한 감사 결과 인정" in page


def test_the_finding_page_links_its_change_history(people, rows):
    page = login(people["viewer"]).get(f"/findings/{rows[0].pk}/").content.decode()
    assert f"/audit/history/findings/finding/{rows[0].pk}/" in page


def test_the_evidence_pack_downloads_as_an_attachment_once_stored(people, rows, settings, tmp_path):
    from web.findings import evidence
    from web.findings.services import open_dispute

    settings.STATE_DIR = tmp_path
    dispute = open_dispute(rows[:1], people["finance"])
    client = login(people["viewer"])
    assert client.get(f"/findings/disputes/{dispute.pk}/evidence/pdf/").status_code == 404
    evidence.store_pack(dispute, evidence.EvidencePack(pdf=b"%PDF-1.7 pack", xlsx=b"PK pack",
                                                       pdf_name="DSP-1-evidence.pdf", xlsx_name="DSP-1-evidence.xlsx"))
    response = client.get(f"/findings/disputes/{dispute.pk}/evidence/pdf/")
    assert response.status_code == 200 and response.content == b"%PDF-1.7 pack"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="DSP-1-evidence.pdf"'
    assert client.get(f"/findings/disputes/{dispute.pk}/evidence/exe/").status_code == 404


def test_a_long_list_pages_with_its_filter_kept(people, make_inventory):
    from web.findings.services import record_audit

    x = make_inventory(1)["lines"][0]
    record_audit("2026-11", [EtlFinding(AuditRule.LATE_FEE, x.carrier.name, f"INV-{i}", x.name, x.circuit_id,
                                        D(1), "late fee", currency="EUR") for i in range(101)])
    client = login(people["viewer"])
    page = client.get("/findings/?rule=late_fee").content.decode()
    assert "Page 1 of 2" in page and "?rule=late_fee&amp;page=2" in page
    assert page.count('class="finding ') == 100
    assert client.get("/findings/?rule=late_fee&page=2").content.decode().count('class="finding ') == 1
