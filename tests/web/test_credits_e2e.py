"""A carrier's credit note reaches the dispute it answers, through the real chain: an Orange Business invoice file
(the XLSX layout of config/carriers.yaml, charge type AVOIR) written by the test → billing_etl's importer → the
ETL's invoice store → the application's mirror (web.invoices.sync.sync_store) → the credits job → confirmed by
finance → the dispute resolved with the recovered amount, its findings resolved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from credits_support import dispute_of
from invoices_support import carriers, load_demo_inventory, store_path, use_config

from billing_etl.demo import ORANGE_HEADER
from billing_etl.importer import import_file
from billing_etl.store import InvoiceStore
from linewatch.choices import ChargeType, CreditMatchState, DisputeOutcome, DisputeState, FindingState

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]
NOV_30 = dt.date(2026, 11, 30)
OCT_1, OCT_31 = dt.date(2026, 10, 1), dt.date(2026, 10, 31)


def write_orange_credit_note(path: Path, *, number: str, reference: str, credit: Decimal) -> Path:
    """November's invoice of Orange: FRA-MPLS-1's subscription, a credit (AVOIR) for October quoting the dispute,
    VAT, and the invoice total the layout checks the rows against."""
    from openpyxl import Workbook

    rows = [("OBS-FR-77812", "ABO", Decimal("1800.00"), "Abonnement mensuel", dt.date(2026, 11, 1), NOV_30),
            ("OBS-FR-77812", "AVOIR", -credit, f"Avoir suite à votre réclamation {reference}", OCT_1, OCT_31)]
    net = sum((r[2] for r in rows), Decimal(0))
    rows.append((None, "TVA", (net * Decimal("0.20")).quantize(Decimal("0.01")), "TVA 20 %", None, None))
    total = sum((r[2] for r in rows), Decimal(0))
    wb = Workbook()
    ws = wb.active
    ws.title = "Facture"
    ws.append(ORANGE_HEADER)
    for circuit, code, amount, label, start, end in rows:
        ws.append([number, NOV_30, NOV_30 + dt.timedelta(days=30), "OBS-ACC-5521", circuit, code, start, end,
                   1.0 if code == "ABO" else None, float(amount) if code == "ABO" else None, float(amount), "EUR",
                   label, float(total)])
    wb.save(path)
    return path


@pytest.mark.parametrize(("credit", "recovered", "outcome"), [
    ("270.00", "270.00", DisputeOutcome.CREDITED_IN_FULL), ("200.00", "200.00", DisputeOutcome.CREDITED_IN_PART)],
    ids=["in-full", "in-part"])
def test_a_credit_note_closes_its_dispute_with_the_recovered_amount(settings, tmp_path, user_with_role, credit,
                                                                   recovered, outcome):
    from web.credits import jobs, services
    from web.findings.models import Dispute
    from web.inventory.models import Carrier
    from web.invoices.models import InvoiceRow
    from web.invoices.sync import sync_store

    use_config(settings, tmp_path)
    load_demo_inventory()
    orange = Carrier.objects.get(name="Orange Business")
    # October's overage of FRA-MPLS-1 (the demo's planted usage_mismatch) disputed and sent to Orange.
    dispute = dispute_of(orange, circuit_id="OBS-FR-77812", amount="270.00", period="2026-10",
                         invoice_number="FR202610-0001")
    path = write_orange_credit_note(tmp_path / "orange-2026-11.xlsx", number="FR202611-0001",
                                    reference=dispute.reference, credit=Decimal(credit))
    result = import_file(path, carriers().by_name()["Orange Business"])
    assert not result.quarantined, result.quarantined
    with InvoiceStore(store_path(tmp_path)) as store:
        store.add_invoices(result.invoices, complete=True)
    report = sync_store()
    assert [i.number for i in report.new] == ["FR202611-0001"]

    (match,) = jobs.propose_matches()
    row = InvoiceRow.objects.get(invoice__number="FR202611-0001", charge_type=ChargeType.CREDIT.value)
    assert (match.credit_row, match.dispute_id, match.state) == (row, dispute.pk, CreditMatchState.PROPOSED)
    assert row.amount == -Decimal(credit) and row.line is not None and row.line.name == "FRA-MPLS-1"
    assert match.reasons[:2] == [f"reference {dispute.reference}", "circuit OBS-FR-77812"]
    assert "period 2026-10" in match.reasons

    services.confirm(match, user_with_role("finance"))
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert (dispute.state, dispute.outcome, dispute.recovered_amount) == (DisputeState.RESOLVED, outcome,
                                                                          Decimal(recovered))
    assert {f.state for f in dispute.findings.all()} == {FindingState.RESOLVED}
    assert jobs.propose_matches() == [] and not services.unmatched_rows().exists()
