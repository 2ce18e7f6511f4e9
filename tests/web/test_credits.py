"""Credits matched to open disputes (web/credits): proposed by the job, confirmed (the dispute resolved with the
recovered amount, in full or in part) or rejected (never proposed again), linked by hand; only finance decides, on
the pages and the API alike. The disputes are made by the findings' own services (tests/web/credits_support.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from credits_support import dispute_of, invoice_with, mark_sent
from django.core.exceptions import ValidationError

from linewatch.choices import ChargeType, CreditMatchState, DisputeOutcome, DisputeState, FindingState

pytestmark = pytest.mark.django_db
D = Decimal
OCT = {"period_start": dt.date(2026, 10, 1), "period_end": dt.date(2026, 10, 31)}


@pytest.fixture
def world(make_inventory, user_with_role):
    inv = make_inventory(2)
    telia, colt = inv["carriers"]
    return {"telia": telia, "colt": colt, "finance": user_with_role("finance"), "circuit": "CID-00000"}


def _proposals():
    from web.credits import services

    return services.propose_matches()


def proposed(world, *, credit="-50.00"):
    """A sent dispute of 50.00 on the circuit, an invoice with a credit row of ``credit`` on it, its proposal."""
    dispute = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    invoice = credit_invoice(world, {"amount": credit, "circuit_id": world["circuit"]})
    (match,) = _proposals()
    return dispute, invoice, match


def proposed_and_unmatched(world):
    """Two sent disputes; an invoice with a credit proposed for the first and a goodwill credit matching none."""
    first = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00", invoice_number="INV-1")
    second = dispute_of(world["telia"], circuit_id="CID-00002", amount="9.00", invoice_number="INV-0")
    invoice = credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]},
                             {"amount": "-4.00", "description": "geste"})
    (match,) = _proposals()
    return first, second, invoice, match


def credit_invoice(world, *rows, number="INV-2"):
    return invoice_with(world["telia"], number, [
        {"charge_type": ChargeType.MONTHLY_RECURRING, "amount": "100.00", "circuit_id": world["circuit"]}, *rows])


# -- proposing ---------------------------------------------------------------------------------------------------


def test_a_credit_row_is_proposed_for_the_dispute_it_answers(world):
    dispute = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    invoice = credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"],
                                     "description": f"Credit note {dispute.reference}", **OCT})
    (match,) = _proposals()
    assert (match.credit_row, match.dispute, match.state) == (invoice.rows.get(idx=1), dispute,
                                                              CreditMatchState.PROPOSED)
    assert match.score == 100 and match.recovered_amount == D("50.00") and match.currency == "EUR"
    assert match.reasons == [f"reference {dispute.reference}", f"circuit {world['circuit']}",
                             "amount 50.00 of 50.00 claimed", "period 2026-10"]


def test_proposing_twice_proposes_nothing_new(world):
    from web.credits.models import CreditMatch

    dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]})
    assert len(_proposals()) == 1
    assert _proposals() == [] and CreditMatch.objects.count() == 1


@pytest.mark.parametrize("case", ["draft-dispute", "other-carrier", "other-currency", "charge-not-credit",
                                  "positive-adjustment"])
def test_never_proposed(world, case):
    kwargs = {"circuit_id": world["circuit"], "amount": "50.00"}
    row = {"amount": "-50.00", "circuit_id": world["circuit"], "description": "credit"}
    carrier = world["telia"]
    if case == "draft-dispute":
        dispute_of(carrier, sent=False, **kwargs)
    elif case == "other-carrier":
        dispute_of(world["colt"], **kwargs)
    elif case == "other-currency":
        dispute_of(carrier, currency="USD", **kwargs)
    elif case == "charge-not-credit":
        dispute_of(carrier, **kwargs)
        row["charge_type"] = ChargeType.ONE_TIME
    else:
        dispute_of(carrier, **kwargs)
        row |= {"charge_type": ChargeType.ADJUSTMENT, "amount": "50.00"}
    credit_invoice(world, row)
    assert _proposals() == []


def test_a_proposal_is_withdrawn_when_its_dispute_is_resolved_otherwise(world):
    from web.credits.models import CreditMatch
    from web.findings import services as findings

    dispute, _invoice, match = proposed(world)
    findings.resolve_dispute(dispute, world["finance"], outcome=DisputeOutcome.REJECTED, recovered_amount=D(0),
                             note="the carrier refused")
    assert _proposals() == []
    match = CreditMatch.objects.get(pk=match.pk)
    assert (match.state, match.decided_by_name) == (CreditMatchState.REJECTED, "linewatch")
    assert dispute.reference in match.note


# -- deciding ----------------------------------------------------------------------------------------------------

CONFIRMS = [
    # (credit, recovered given, recovered, outcome)
    ("-50.00", None, "50.00", DisputeOutcome.CREDITED_IN_FULL),
    ("-20.00", None, "20.00", DisputeOutcome.CREDITED_IN_PART),
    ("-80.00", None, "50.00", DisputeOutcome.CREDITED_IN_FULL),  # capped at the claim
    ("-50.00", "30.00", "30.00", DisputeOutcome.CREDITED_IN_PART),  # the user says otherwise
    ("-80.00", "80.00", "80.00", DisputeOutcome.CREDITED_IN_FULL),
]


@pytest.mark.parametrize(("credit", "given", "recovered", "outcome"), CONFIRMS,
                         ids=["equal", "partial", "capped", "user-less", "user-whole-credit"])
def test_confirm_resolves_the_dispute_with_the_recovered_amount(world, credit, given, recovered, outcome):
    from web.credits import services
    from web.findings.models import Dispute

    dispute, invoice, match = proposed(world, credit=credit)
    match = services.confirm(match, world["finance"], recovered_amount=None if given is None else D(given))
    assert (match.state, match.recovered_amount, match.decided_by) == (CreditMatchState.CONFIRMED, D(recovered),
                                                                        world["finance"])
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert (dispute.state, dispute.outcome, dispute.recovered_amount) == (DisputeState.RESOLVED, outcome,
                                                                          D(recovered))
    assert {f.state for f in dispute.findings.all()} == {FindingState.RESOLVED}
    assert invoice.rows.get(idx=1).credit_matches.get() == match


@pytest.mark.parametrize(("given", "why"), [("50.01", "more than the credit"), ("0", "above zero")])
def test_a_recovered_amount_the_credit_cannot_give_is_refused_naming_the_field(world, given, why):
    from web.credits import services
    from web.findings.models import Dispute

    dispute, _invoice, match = proposed(world)
    with pytest.raises(ValidationError) as caught:
        services.confirm(match, world["finance"], recovered_amount=D(given))
    assert why in caught.value.message_dict["recovered_amount"][0]
    match.refresh_from_db()
    assert match.state == CreditMatchState.PROPOSED
    assert Dispute.objects.get(pk=dispute.pk).state == DisputeState.SENT


def test_a_decided_match_cannot_be_decided_again(world):
    from web.credits import services

    _dispute, _invoice, match = proposed(world)
    services.confirm(match, world["finance"])
    for decide in (services.confirm, services.reject):
        with pytest.raises(services.CreditError, match="Confirmed already"):
            decide(match, world["finance"])


def test_a_proposal_of_a_dispute_resolved_meanwhile_is_refused_on_confirm(world):
    from web.credits import services
    from web.findings import services as findings

    dispute, _invoice, match = proposed(world)
    findings.resolve_dispute(dispute, world["finance"], outcome=DisputeOutcome.REJECTED, recovered_amount=D(0))
    with pytest.raises(services.CreditError, match=f"{dispute.reference} is Resolved"):
        services.confirm(match, world["finance"])
    match.refresh_from_db()
    assert match.state == CreditMatchState.PROPOSED  # withdrawn by the next proposing run


def test_a_rejected_pair_is_never_proposed_again_and_the_row_goes_to_the_next_dispute(world):
    from web.credits import services

    first = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00", invoice_number="INV-1")
    second = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00", invoice_number="INV-0")
    credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]})
    (match,) = _proposals()
    assert match.dispute == first and f"tied with {second.reference}" in match.reasons
    services.reject(match, world["finance"], note="that was September's credit")
    (again,) = _proposals()
    assert again.dispute == second
    services.reject(again, world["finance"])
    assert _proposals() == []


def test_confirming_withdraws_the_other_proposals_of_the_dispute(world):
    from web.credits import services
    from web.credits.models import CreditMatch

    dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    credit_invoice(world, {"amount": "-30.00", "circuit_id": world["circuit"]},
                   {"amount": "-20.00", "circuit_id": world["circuit"]})
    first, second = _proposals()
    services.confirm(first, world["finance"])
    second = CreditMatch.objects.get(pk=second.pk)
    assert second.state == CreditMatchState.REJECTED and "confirmed for" in second.note


def test_a_row_matching_nothing_is_unmatched_and_finance_links_it_by_hand(world):
    from web.credits import services
    from web.findings.models import Dispute

    dispute = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    invoice = credit_invoice(world, {"amount": "-7.00", "circuit_id": "CID-OTHER", "description": "geste"})
    row = invoice.rows.get(idx=1)
    assert _proposals() == [] and list(services.unmatched_rows()) == [row]
    match = services.link(row, dispute, world["finance"])
    assert (match.state, match.manual, match.recovered_amount) == (CreditMatchState.CONFIRMED, True, D("7.00"))
    assert match.reasons[0] == "linked by hand"
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert (dispute.state, dispute.outcome, dispute.recovered_amount) == (
        DisputeState.RESOLVED, DisputeOutcome.CREDITED_IN_PART, D("7.00"))
    assert list(services.unmatched_rows()) == []


@pytest.mark.parametrize(("case", "field"), [("charge", "credit_row"), ("other-carrier", "dispute"),
                                             ("draft", "dispute")])
def test_linking_by_hand_is_refused_naming_the_field(world, case, field):
    from web.credits import services

    carrier = world["colt"] if case == "other-carrier" else world["telia"]
    dispute = dispute_of(carrier, circuit_id=world["circuit"], amount="50.00", sent=case != "draft")
    invoice = credit_invoice(world, {"amount": "-7.00", "circuit_id": world["circuit"]})
    row = invoice.rows.get(idx=0 if case == "charge" else 1)
    with pytest.raises(ValidationError) as caught:
        services.link(row, dispute, world["finance"])
    assert list(caught.value.message_dict) == [field]


def test_a_rejected_pair_linked_by_hand_after_all_is_confirmed(world):
    from web.credits import services

    dispute, invoice, match = proposed(world)
    services.reject(match, world["finance"])
    linked = services.link(invoice.rows.get(idx=1), dispute, world["finance"])
    assert linked.pk == match.pk and (linked.state, linked.manual) == (CreditMatchState.CONFIRMED, True)


@pytest.mark.parametrize("role", ["viewer", "noc", "engineer", "admin", None])
def test_only_finance_decides(world, user_with_role, role):
    from web.credits import services

    dispute, invoice, match = proposed(world)
    user = user_with_role(role)
    for decide in (lambda: services.confirm(match, user), lambda: services.reject(match, user),
                   lambda: services.link(invoice.rows.get(idx=1), dispute, user)):
        with pytest.raises(services.NotPermitted):
            decide()


# -- pages -------------------------------------------------------------------------------------------------------


def test_the_list_shows_proposals_first_then_unmatched_credits_with_finances_buttons(client, world, user_with_role):
    dispute = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    invoice = credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]},
                             {"amount": "-7.00", "circuit_id": "CID-OTHER", "description": "geste commercial"})
    (match,) = _proposals()
    client.force_login(world["finance"])
    page = client.get("/credits/").content.decode()
    assert page.index(f'id="match-{match.pk}"') < page.index(f'id="row-{invoice.rows.get(idx=2).pk}"')
    assert "amount 50.00 of 50.00 claimed" in page and dispute.reference in page and "geste commercial" in page
    assert f'action="/credits/{match.pk}/confirm/"' in page and "/link/" in page
    client.force_login(user_with_role("viewer"))
    page = client.get("/credits/").content.decode()
    assert f'id="match-{match.pk}"' in page and "/confirm/" not in page and "/link/" not in page


def test_confirm_reject_and_link_from_the_page(client, world):
    from web.credits.models import CreditMatch
    from web.findings.models import Dispute

    first, second, invoice, match = proposed_and_unmatched(world)
    client.force_login(world["finance"])
    assert client.post(f"/credits/{match.pk}/confirm/", {"recovered_amount": "45.00"}).status_code == 302
    assert Dispute.objects.get(pk=first.pk).recovered_amount == D("45.00")
    row = invoice.rows.get(idx=2)
    answer = client.post(f"/credits/rows/{row.pk}/link/", {f"row{row.pk}-dispute": second.pk})
    assert answer.status_code == 302
    assert CreditMatch.objects.get(credit_row=row).state == CreditMatchState.CONFIRMED
    assert Dispute.objects.get(pk=second.pk).recovered_amount == D("4.00")


def test_page_refusals_answer_with_their_reason(client, world, user_with_role):
    _dispute, _invoice, match = proposed(world)
    client.force_login(user_with_role("admin"))
    assert client.post(f"/credits/{match.pk}/confirm/").status_code == 403
    client.force_login(world["finance"])
    answer = client.post(f"/credits/{match.pk}/confirm/", {"recovered_amount": "60"})
    assert answer.status_code == 400 and "more than the credit row" in answer.content.decode()
    assert client.post(f"/credits/{match.pk}/reject/", {"note": "no"}).status_code == 302
    answer = client.post(f"/credits/{match.pk}/confirm/")
    assert answer.status_code == 409 and "Rejected already" in answer.content.decode()


def test_the_match_page_shows_its_reasons_and_decision(client, world):
    from web.credits import services

    _dispute, _invoice, match = proposed(world)
    client.force_login(world["finance"])
    page = client.get(f"/credits/{match.pk}/").content.decode()
    assert f"circuit {world['circuit']}" in page and "/confirm/" in page
    services.confirm(match, world["finance"])
    page = client.get(f"/credits/{match.pk}/").content.decode()
    assert "Confirmed" in page and world["finance"].get_username() in page and "/confirm/" not in page


def test_the_korean_page_reads_the_reasons_in_korean(client, world):
    dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    credit_invoice(world, {"amount": "-20.00", "circuit_id": world["circuit"]})
    _proposals()
    client.force_login(world["finance"])
    page = client.get("/credits/", headers={"accept-language": "ko"}).content.decode()
    assert "회선 CID-00000" in page and "청구 50.00 중 20.00 (일부)" in page and "크레딧" in page


# -- API ---------------------------------------------------------------------------------------------------------


def test_api_lists_confirms_rejects_and_links(client, world):
    from web.findings.models import Dispute

    first, second, invoice, match = proposed_and_unmatched(world)
    client.force_login(world["finance"])
    listed = client.get("/api/credits/matches/?state=proposed").json()
    assert [m["id"] for m in listed["results"]] == [match.pk]
    assert listed["results"][0]["credit"]["credited"] == "50.00"
    assert [r["idx"] for r in client.get("/api/credits/unmatched/").json()["results"]] == [2]
    answer = client.post(f"/api/credits/matches/{match.pk}/confirm/", {}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["state"] == "confirmed"
    assert Dispute.objects.get(pk=first.pk).state == DisputeState.RESOLVED
    again = client.post(f"/api/credits/matches/{match.pk}/reject/", {}, content_type="application/json")
    assert again.status_code == 409
    row = invoice.rows.get(idx=2)
    bad = client.post("/api/credits/matches/", {"credit_row": row.pk, "dispute": second.pk,
                                                "recovered_amount": "5.00"}, content_type="application/json")
    assert bad.status_code == 400 and list(bad.json()) == ["recovered_amount"]
    linked = client.post("/api/credits/matches/", {"credit_row": row.pk, "dispute": second.pk},
                         content_type="application/json")
    assert linked.status_code == 201 and (linked.json()["manual"], linked.json()["state"]) == (True, "confirmed")


@pytest.mark.parametrize("role", ["viewer", "noc", "engineer", "finance", "admin"])
def test_api_decisions_per_role(client, world, user_with_role, role):
    _dispute, _invoice, match = proposed(world)
    client.force_login(user_with_role(role))
    assert client.get(f"/api/credits/matches/{match.pk}/").status_code == 200
    answer = client.post(f"/api/credits/matches/{match.pk}/reject/", {}, content_type="application/json")
    assert answer.status_code == (200 if role == "finance" else 403)


def test_the_job_is_registered_and_proposes(world):
    from django.apps import apps

    from web.credits import jobs

    assert ("web.credits.jobs:propose_matches", 300) in apps.get_app_config("credits").linewatch_jobs
    dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]})
    assert len(jobs.propose_matches()) == 1


def test_a_draft_dispute_becomes_a_candidate_once_sent(world):
    """mark_sent is where the findings' send_dispute ends (state sent)."""
    dispute = dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00", sent=False)
    credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]})
    assert _proposals() == []
    mark_sent(dispute)
    assert [m.dispute_id for m in _proposals()] == [dispute.pk]


def test_the_list_runs_the_same_queries_for_one_credit_or_many(client, world):
    """No query per row: the unmatched rows' dispute choices are read once for the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dispute_of(world["telia"], circuit_id=world["circuit"], amount="50.00")
    client.force_login(world["finance"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/credits/").status_code == 200
        return len(ctx.captured_queries)

    credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]}, {"amount": "-1.00"}, number="I-1")
    _proposals()
    few = queries()
    for n in range(2, 7):
        credit_invoice(world, {"amount": "-50.00", "circuit_id": world["circuit"]}, {"amount": "-1.00"},
                       number=f"I-{n}")
    _proposals()
    assert queries() == few
