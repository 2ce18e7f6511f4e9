"""sync_store: the ETL store's invoices mirrored into the app (the real store, built with billing_etl.importer from
the demo invoices), idempotent, rows matched to lines, a replaced invoice rewritten in place."""

from __future__ import annotations

from decimal import Decimal

import pytest
from invoices_support import (
    DEMO_INVOICES,
    carriers,
    import_demo_invoices,
    load_demo_inventory,
    store_path,
    use_config,
)

from billing_etl.store import InvoiceStore
from linewatch.choices import InvoiceState

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]


@pytest.fixture
def demo(settings, tmp_path):
    use_config(settings, tmp_path)
    load_demo_inventory()
    stored = import_demo_invoices(store_path(tmp_path))
    return {"state_dir": tmp_path, "stored": stored}


def test_every_stored_invoice_is_mirrored_received_with_its_rows_and_total(demo):
    from web.invoices.models import Invoice
    from web.invoices.sync import sync_store

    report = sync_store()
    with InvoiceStore(store_path(demo["state_dir"])) as store:
        stored = {(i.carrier, i.invoice_number): i for i in store.invoices()}
    assert len(report.new) == len(stored) == Invoice.objects.count() and not report.skipped
    for invoice in Invoice.objects.select_related("carrier").prefetch_related("rows"):
        source = stored[(invoice.carrier.name, invoice.number)]
        assert invoice.state == InvoiceState.RECEIVED
        assert invoice.rows.count() == len(source.lines)
        assert invoice.total == sum((r.amount for r in invoice.rows.all()), Decimal(0))
        assert invoice.due_date == source.due_date and invoice.content_hash == source.content_hash
        assert invoice.events.get().target == InvoiceState.RECEIVED
    assert report.periods == {"2026-09", "2026-10"}


def test_a_second_sync_changes_nothing(demo):
    from web.invoices.models import Invoice, InvoiceEvent
    from web.invoices.sync import sync_store

    first = sync_store()
    events = InvoiceEvent.objects.count()
    second = sync_store()
    assert second.new == [] and second.updated == [] and second.unchanged == len(first.new)
    assert second.periods == set() and InvoiceEvent.objects.count() == events
    assert Invoice.objects.count() == len(first.new)


def test_rows_are_matched_to_the_inventory_line_by_carrier_and_circuit_id(demo):
    from web.inventory.models import Line
    from web.invoices.models import InvoiceRow
    from web.invoices.sync import sync_store

    sync_store()
    row = InvoiceRow.objects.filter(circuit_id="COLT-UK-9001234").select_related("line").first()
    assert row is not None and row.line == Line.objects.get(carrier__name="Colt", circuit_id="COLT-UK-9001234")
    unknown = InvoiceRow.objects.filter(line__isnull=True).exclude(circuit_id="")
    known = set(Line.objects.values_list("carrier__name", "circuit_id"))
    assert all((r.invoice.carrier.name, r.circuit_id) not in known for r in unknown)


def test_charge_keys_are_the_etl_finding_ids_charge_key_of_each_row(demo):
    from billing_etl.finding_ids import charge_key
    from web.invoices.models import InvoiceRow
    from web.invoices.sync import sync_store

    sync_store()
    with InvoiceStore(store_path(demo["state_dir"])) as store:
        expected = {(i.invoice_number, n): charge_key(line) for i in store.invoices() for n, line in
                    enumerate(i.lines)}
    got = {(r.invoice.number, r.idx): r.charge_key for r in InvoiceRow.objects.select_related("invoice")}
    assert got == expected


def test_an_invoice_of_a_carrier_missing_from_the_inventory_is_skipped_by_name(demo):
    from web.inventory.models import Carrier
    from web.invoices.sync import sync_store

    Carrier.objects.filter(name="Colt").update(name="Colt Technology Services")  # the names no longer agree
    report = sync_store()
    assert report.skipped and all(s.startswith("Colt ") and "not in the application's inventory" in s
                                  for s in report.skipped)
    assert all(i.carrier.name != "Colt" for i in report.new)


def test_a_missing_store_mirrors_nothing(settings, tmp_path):
    from web.invoices.sync import sync_store

    use_config(settings, tmp_path)
    report = sync_store()
    assert report.new == [] and report.periods == set()


def test_an_invoice_the_store_replaced_is_rewritten_in_place_and_audited_again(settings, tmp_path):
    """The quarantine round trip: a file with a broken row is stored incomplete; its corrected file replaces the
    stored invoice (ImportOutcome.COMPLETED). The mirror keeps the invoice and the ids of its rows, adds the new
    row, records the change, and an audited invoice goes back to received to be audited again."""
    from billing_etl.importer import import_file
    from billing_etl.store import ImportOutcome
    from web.invoices.models import Invoice
    from web.invoices.services import system_move
    from web.invoices.sync import sync_store

    use_config(settings, tmp_path)
    load_demo_inventory()
    colt = carriers().by_name()["Colt"]
    good = DEMO_INVOICES / "colt-2026-09.csv"
    lines = good.read_bytes().split(b"\n")
    broken = tmp_path / "colt-2026-09-broken.csv"
    broken.write_bytes(b"\n".join([*lines[:2], lines[2].replace(b"450,00", b"four-fifty"), *lines[3:]]))
    with InvoiceStore(store_path(tmp_path)) as store:
        first = import_file(broken, colt)
        assert first.quarantined
        store.add_invoices(first.invoices, complete=False)
    sync_store()
    invoice = Invoice.objects.get(number="C26097781")
    system_move(invoice, "audit")
    row_ids = list(invoice.rows.order_by("idx").values_list("pk", flat=True))
    assert len(row_ids) == 2
    with InvoiceStore(store_path(tmp_path)) as store:
        outcome = store.add_invoices(import_file(good, colt).invoices)
    assert outcome == {("Colt", "C26097781"): ImportOutcome.COMPLETED}
    report = sync_store()
    invoice.refresh_from_db()
    assert [i.pk for i in report.updated] == [invoice.pk] and report.periods == {"2026-09"}
    assert invoice.state == InvoiceState.RECEIVED and invoice.total == Decimal("1620.00")
    assert invoice.rows.count() == 3
    assert list(invoice.rows.order_by("idx").values_list("pk", flat=True))[:2] == row_ids  # same row ids
    assert invoice.events.filter(text="rows replaced by the invoice store").exists()
    assert invoice.events.filter(transition="reopen").exists()


def test_an_invoice_mirrored_meanwhile_by_a_concurrent_sync_is_not_an_error(demo, monkeypatch):
    """Two syncs at once (a hand upload while the worker syncs): the second one's insert hits the unique
    (carrier, number) and counts the invoice as unchanged instead of failing the whole sync."""
    from web.invoices import sync
    from web.invoices.models import Invoice

    first = sync.sync_store()
    victim = first.new[0]
    Invoice.objects.filter(pk=victim.pk).update(content_hash="stale")
    real = Invoice.objects.values_list
    monkeypatch.setattr(Invoice.objects, "values_list",
                        lambda *a, **k: real(*a, **k).exclude(pk=victim.pk))  # this sync has not seen it yet
    report = sync.sync_store()
    assert report.new == [] and report.updated == [] and report.unchanged == len(first.new)
