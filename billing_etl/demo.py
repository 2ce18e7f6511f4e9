"""Demo invoices (three carriers, three formats, planted problems) and the billing stage of ``make run``.

Orange Business sends XLSX (French headers, Excel dates, a per-row invoice total); Colt sends CSV (``;``,
decimal comma, ``dd.mm.yyyy``, Windows-1252); Deutsche Telekom sends a text PDF (German labels in a header
block, a ruled table, a ``Gesamtbetrag`` totals row; rendered by WeasyPrint). All bill the month before the
demo period and the demo period; the second month has the planted problems listed in :data:`PLANTED`
(docs/billing.md shows the resulting findings; the Telekom invoices are correct).

``python -m billing_etl.demo --period 2026-10 --out config/demo-invoices`` regenerates the sample files.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import logging
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from billing_etl.demo_voice import VoiceDemo, voice_demo, write_itemized
from billing_etl.model import Period, money
from billing_etl.usage import LineUsage

log = logging.getLogger(__name__)

PLANTED = {
    "rate_mismatch": "PAR-INET-1 billed 650.00 instead of the contract's 600.00",
    "usage_mismatch": "FRA-MPLS-1 billed 30 Mbit/s of burst; its 95th percentile stays below the commit",
    "sla_credit_owed": "AMS-MPLS-1 was down (demo outages) and no credit is on the invoice",
    "late_fee": "Orange adds a late-payment penalty",
    "ghost_circuit": "Orange bills OBS-DE-99999, a circuit the inventory does not know",
    "invoice_arithmetic": "the Orange invoice total is 100.00 more than its rows",
    "duplicate_charge": "LON-MPLS-1's monthly charge billed again on a supplementary invoice",
    "month_over_month": "LON-MPLS-1 (duplicate) and LON-INET-1 (one-time fee) jump against last month",
    "proration_mismatch": "LON-INET-1's first 10 days billed as 12 days",
    "unbilled_line": "LON-LL-1 has no charge this month",
    "before_install": "PAR-INET-2 (planned, installs next year) is billed already",
    "contract_event": "LON-LL-1's contract term ended; AMS-MPLS-1 renews automatically soon",
    "invoice_conflict": "Colt re-sends this month's invoice number with different content",
    "quarantine": "two Colt rows are malformed (bad date, bad amount)",
}

ORANGE_HEADER = [
    "N° facture",
    "Date facture",
    "Échéance",
    "Compte",
    "Circuit",
    "Type",
    "Début",
    "Fin",
    "Qté",
    "Prix unitaire",
    "Montant HT",
    "Devise",
    "Libellé",
    "Total facture",
]
COLT_HEADER = [
    "Invoice",
    "Inv Date",
    "Due",
    "Account",
    "Circuit Ref",
    "Charge Code",
    "From",
    "To",
    "Qty",
    "Rate",
    "Net",
    "Curr",
    "Details",
]

ORANGE_MRC = {
    "OBS-FR-77812": Decimal("1800.00"),
    "OBS-NL-66120": Decimal("2400.00"),
    "OBS-UK-11873": Decimal("950.00"),
    "OBS-FR-INET-3302": Decimal("600.00"),
    "OBS-FR-SIP-4410": Decimal("250.00"),  # PAR-VOICE-1, the Paris SIP trunk (config/contracts.yaml)
}
COLT_MRC = {"COLT-UK-9001234": Decimal("900.00"), "COLT-UK-LL-4410": Decimal("450.00")}
# LON-INET-1's upgrade to 300 Mbit/s (config/contracts.yaml changes:, config/lines.yaml capacity_changes): Colt
# bills the days from it on at the new MRC (actual days), in a row of their own.
COLT_CHANGE = (dt.date(2026, 11, 16), Decimal("1200.00"))
VAT = Decimal("0.20")
# Deutsche Telekom's SIP trunk FRA-VOICE-1 (config/contracts.yaml), invoiced as a PDF with German VAT.
TELEKOM_MRC = {"DTAG-SIP-5531": Decimal("390.00")}
TELEKOM_VAT = Decimal("0.19")
TELEKOM_HEADER = ["Leitung", "Leistung", "Art", "Von", "Bis", "Menge", "Einzelpreis", "Betrag"]


def _orange_rows(
    period: Period,
    *,
    planted: bool,
    usage: Mapping[str, LineUsage] | None,
    calls: Mapping[str, Decimal] | None = None,
) -> list[list[Any]]:
    number = f"FR{period.year}{period.month:02d}-0001"
    inv_date, due = period.last_day, period.last_day + dt.timedelta(days=30)
    first, last = period.first_day, period.last_day
    rows: list[list[Any]] = []

    def add(
        circuit: str | None,
        code: str,
        amount: Decimal,
        label: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        periodic: bool = True,
    ) -> None:
        rows.append(
            [
                number,
                inv_date,
                due,
                "OBS-ACC-5521",
                circuit,
                code,
                first if periodic else None,
                last if periodic else None,
                None if qty is None else float(qty),
                None if price is None else float(price),
                float(amount),
                "EUR",
                label,
                None,
            ]
        )

    for circuit, mrc in ORANGE_MRC.items():
        billed = Decimal("650.00") if planted and circuit == "OBS-FR-INET-3302" else mrc
        add(circuit, "ABO", billed, "Abonnement mensuel", qty=Decimal(1), price=billed)
    if planted:
        add(
            "OBS-FR-77812",
            "CONSO",
            Decimal("270.00"),
            "Dépassement 95e centile (30 Mbit/s)",
            qty=Decimal(30),
            price=Decimal("9.00"),
        )
        add(
            "OBS-DE-99999",
            "ABO",
            Decimal("420.00"),
            "Abonnement mensuel",
            qty=Decimal(1),
            price=Decimal("420.00"),
        )
        add(None, "PEN", Decimal("35.00"), "Pénalités de retard", periodic=False)
    for circuit, amount in sorted((calls or {}).items()):  # the SIP trunk's calls (billing_etl.demo_voice)
        if circuit in ORANGE_MRC:
            add(circuit, "CONSO", amount, "Communications (détail des appels en annexe)")
    if usage is not None:
        for circuit, line_id, price in (("OBS-NL-66120", "AMS-MPLS-1", Decimal("7.50")),):
            u = usage.get(line_id)
            if u is not None and u.p95_bps is not None and u.p95_bps > 200e6:
                over = (Decimal(repr(u.p95_bps)) - 200_000_000) / 10**6
                over = over.quantize(Decimal("0.01"))
                add(circuit, "CONSO", money(over * price), "Dépassement 95e centile", qty=over, price=price)
    net = sum((Decimal(repr(r[10])) for r in rows), Decimal(0))
    add(None, "TVA", money(net * VAT), "TVA 20 %", periodic=False)
    total = sum((Decimal(repr(r[10])) for r in rows), Decimal(0)) + (Decimal(100) if planted else 0)
    for r in rows:
        r[13] = float(money(total))
    return rows


def _orange_supplement(period: Period) -> list[list[Any]]:
    number = f"FR{period.year}{period.month:02d}-0001S"
    mrc = ORANGE_MRC["OBS-UK-11873"]
    rows = [
        [
            number,
            period.last_day,
            period.last_day + dt.timedelta(days=30),
            "OBS-ACC-5521",
            "OBS-UK-11873",
            "ABO",
            period.first_day,
            period.last_day,
            1.0,
            float(mrc),
            float(mrc),
            "EUR",
            "Abonnement mensuel",
            None,
        ]
    ]
    rows.append(
        [
            number,
            period.last_day,
            period.last_day + dt.timedelta(days=30),
            "OBS-ACC-5521",
            None,
            "TVA",
            None,
            None,
            None,
            None,
            float(money(mrc * VAT)),
            "EUR",
            "TVA 20 %",
            None,
        ]
    )
    total = float(money(mrc * (1 + VAT)))
    for r in rows:
        r[13] = total
    return rows


def _d(day: dt.date | None) -> str:
    return "" if day is None else day.strftime("%d.%m.%Y")


def _n(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def _colt_rows(
    period: Period, *, planted: bool, reissue: bool = False, usage: Mapping[str, LineUsage] | None = None
) -> list[list[str]]:
    number = f"C{period.year % 100:02d}{period.month:02d}7781"
    inv_date, due = period.last_day, period.last_day + dt.timedelta(days=21)
    first, last = period.first_day, period.last_day
    rows: list[list[str]] = []

    def add(
        circuit: str,
        code: str,
        amount: Decimal,
        details: str,
        *,
        start: dt.date | None = first,
        end: dt.date | None = last,
        qty: Decimal | None = None,
        rate: Decimal | None = None,
    ) -> None:
        rows.append(
            [
                number,
                _d(inv_date),
                _d(due),
                "UK-100-2231",
                circuit,
                code,
                _d(start),
                _d(end),
                _n(qty),
                _n(rate),
                _n(amount),
                "EUR",
                details,
            ]
        )

    in_force = COLT_CHANGE[1] if COLT_CHANGE[0] <= first else COLT_MRC["COLT-UK-9001234"]
    mrc = in_force + (Decimal(50) if reissue else 0)

    def internet(start: dt.date, end: dt.date, details: str) -> None:
        """LON-INET-1's recurring rows for ``start..end``, one per MRC in force (prorated by actual days)."""
        change, new_mrc = COLT_CHANGE
        pieces = [(start, end, mrc)]
        if start < change <= end:
            pieces = [(start, change - dt.timedelta(days=1), mrc), (change, end, new_mrc)]
        elif change <= start:
            pieces = [(start, end, new_mrc)]
        for a, b, amount in pieces:
            days = (b - a).days + 1
            billed = amount if days == period.days else money(amount * days / period.days)
            add("COLT-UK-9001234", "REC", billed, details, start=a, end=b)

    if planted:
        tenth = first + dt.timedelta(days=9)
        part1 = money(mrc * 12 / period.days)
        add("COLT-UK-9001234", "REC", part1, "Internet access 300M – 10 days (€)", end=tenth)
        internet(tenth + dt.timedelta(days=1), last, "Internet access 300M (€)")
        add(
            "COLT-UK-9001234",
            "OTC",
            Decimal("400.00"),
            "Additional IPv4 /28 set-up fee",
            start=None,
            end=None,
        )
        add("COLT-FR-5521", "REC", Decimal("700.00"), "Internet access 100M Paris")
    else:
        internet(first, last, "Internet access 300M (€)")
        add("COLT-UK-LL-4410", "REC", COLT_MRC["COLT-UK-LL-4410"], "Leased line 10M London")
    u = (usage or {}).get("LON-INET-1")
    if u is not None and u.has_data:
        gb = (Decimal(repr(u.in_bytes)) + Decimal(repr(u.out_bytes))) / 2**30
        over = max(gb - 20_000, Decimal(0)).quantize(Decimal("0.001"))
        if over > 0:
            add(
                "COLT-UK-9001234",
                "USG",
                money(over * Decimal("0.05")),
                "Volume above 20,000 GB",
                qty=over,
                rate=Decimal("0.05"),
            )
    net = sum((Decimal(r[10].replace(",", ".")) for r in rows), Decimal(0))
    rows.append(
        [
            number,
            _d(inv_date),
            _d(due),
            "UK-100-2231",
            "",
            "VAT",
            "",
            "",
            "",
            "",
            _n(money(net * VAT)),
            "EUR",
            "VAT 20%",
        ]
    )
    if planted and not reissue:
        bad_date = [
            number,
            f"32.{period.month:02d}.{period.year}",
            _d(due),
            "UK-100-2231",
            "COLT-UK-9001234",
            "REC",
            _d(first),
            _d(last),
            "",
            "",
            "12,00",
            "EUR",
            "bad date",
        ]
        bad_amount = [
            number,
            _d(inv_date),
            _d(due),
            "UK-100-2231",
            "COLT-UK-9001234",
            "OTC",
            "",
            "",
            "",
            "",
            "12,3x",
            "EUR",
            "bad amount",
        ]
        rows += [bad_date, bad_amount]
    return rows


def _telekom_rows(period: Period, calls: Mapping[str, Decimal] | None = None) -> list[list[str]]:
    """The SIP trunk's monthly charge (and its calls, ``calls`` per circuit) and the VAT row, as the PDF's table
    shows them (German numbers)."""
    rows = [
        [
            circuit,
            "SIP-Trunk 30 Sprachkanäle",
            "GRUND",
            _d(period.first_day),
            _d(period.last_day),
            "1",
            _n(mrc),
            _n(mrc),
        ]
        for circuit, mrc in TELEKOM_MRC.items()
    ]
    for circuit, amount in sorted((calls or {}).items()):
        if circuit in TELEKOM_MRC:
            rows.append([circuit, "Verbindungsentgelte", "VERB", _d(period.first_day), _d(period.last_day), "", "",
                         _n(amount)])
    net = sum(TELEKOM_MRC.values(), Decimal(0)) + sum(
        (a for c, a in (calls or {}).items() if c in TELEKOM_MRC), Decimal(0)
    )
    rows.append(["", "Umsatzsteuer 19 %", "MWST", "", "", "", "", _n(money(net * TELEKOM_VAT))])
    return rows


def html_to_pdf(html: str) -> bytes:
    """``html`` rendered as a text PDF by WeasyPrint (byte-identical for the same HTML: no dates in it)."""
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


def telekom_html(
    period: Period, *, rows: list[list[str]] | None = None, calls: Mapping[str, Decimal] | None = None
) -> str:
    """Deutsche Telekom's invoice for ``period`` as HTML: the header block, the ruled table of ``rows`` (the
    demo's own by default; its header row repeated on every page), the Gesamtbetrag row, a page footer."""
    from html import escape

    rows = _telekom_rows(period, calls) if rows is None else rows
    total = sum((Decimal(r[7].replace(".", "").replace(",", ".")) for r in rows), Decimal(0))
    cells = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
        for row in [*rows, ["Gesamtbetrag", "", "", "", "", "", "", _n(total)]]
    )
    heads = "".join(f"<th>{h}</th>" for h in TELEKOM_HEADER)
    number = f"DT-{period.year}{period.month:02d}-5531"
    due = period.last_day + dt.timedelta(days=30)
    block = [
        ("Rechnungsnummer", number),
        ("Kundennummer", "DTK-448812"),
        ("Rechnungsdatum", _d(period.last_day)),
        ("Fällig am", _d(due)),
    ]
    head = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in block)
    return f"""<!doctype html><html lang="de"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 18mm; @bottom-center {{ content: "Deutsche Telekom Business · Seite "
  counter(page) " von " counter(pages); font: 8pt sans-serif; }} }}
body {{ font: 9pt "DejaVu Sans", sans-serif; }}
table.block td {{ padding: 1pt 24pt 1pt 0; }}
table.charges {{ border-collapse: collapse; width: 100%; margin-top: 12pt; }}
table.charges th, table.charges td {{ border: 0.5pt solid #333; padding: 2pt 3pt; }}
</style></head><body>
<h1>Rechnung</h1><p>Deutsche Telekom Business · Frankfurt am Main</p>
<table class="block">{head}</table>
<table class="charges"><thead><tr>{heads}</tr></thead><tbody>{cells}</tbody></table>
<p>Bitte überweisen Sie den Gesamtbetrag bis zum {_d(due)}.</p>
</body></html>"""


def _write_xlsx(rows: list[list[Any]], path: Path, period: Period) -> None:
    from openpyxl import Workbook

    from billing_etl.exports import _deterministic_zip

    wb = Workbook()
    ws = wb.active
    ws.title = "Facture"
    ws.append(ORANGE_HEADER)
    for row in rows:
        ws.append(row)
        for col in (2, 3, 7, 8):
            ws.cell(row=ws.max_row, column=col).number_format = "dd/mm/yyyy"
    stamp = dt.datetime(period.year, period.month, 1)
    wb.properties.created = wb.properties.modified = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_deterministic_zip(buffer.getvalue(), stamp))


def _write_csv(rows: list[list[str]], path: Path) -> None:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLT_HEADER)
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode("cp1252"))


def write_demo_invoices(
    out_dir: Path,
    period: Period,
    *,
    usage: Mapping[str, LineUsage] | None = None,
    voice: VoiceDemo | None = None,
) -> list[Path]:
    """Invoices of the three carriers for ``period`` (planted problems) and the month before (clean); with
    ``voice``, the voice trunks' call charges and the itemized call files (:mod:`billing_etl.demo_voice`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    prev = period.previous()
    calls_prev = {c: a for c, (a, _b) in voice.charges.items()} if voice else None
    calls_now = {c: b for c, (_a, b) in voice.charges.items()} if voice else None
    files = {
        out_dir / f"orange-{prev}.xlsx": (
            "xlsx",
            _orange_rows(prev, planted=False, usage=None, calls=calls_prev),
            prev,
        ),
        out_dir / f"orange-{period}.xlsx": (
            "xlsx",
            _orange_rows(period, planted=True, usage=usage, calls=calls_now),
            period,
        ),
        out_dir / f"orange-{period}-supplement.xlsx": ("xlsx", _orange_supplement(period), period),
        out_dir / f"colt-{prev}.csv": ("csv", _colt_rows(prev, planted=False), prev),
        out_dir / f"colt-{period}.csv": ("csv", _colt_rows(period, planted=True, usage=usage), period),
        out_dir / f"colt-{period}.reissue.csv": (
            "csv",
            _colt_rows(period, planted=True, reissue=True, usage=usage),
            period,
        ),
    }
    for path, (kind, rows, p) in files.items():
        if kind == "xlsx":
            _write_xlsx(rows, path, p)
        else:
            _write_csv(rows, path)
    pdfs = [out_dir / f"telekom-{p}.pdf" for p in (prev, period)]
    for path, p, calls in zip(pdfs, (prev, period), (calls_prev, calls_now), strict=True):
        path.write_bytes(html_to_pdf(telekom_html(p, calls=calls)))
    return sorted([*files, *pdfs, *write_itemized(out_dir, voice)])


def demo_stage(ctx: Any, *, today: dt.date | None = None) -> Any:
    """Billing stage of ``linewatch demo``: bill the previous month of the backfilled history, export to the
    run directory (``run/exports``), print the one-screen summary and return the report.

    The invoices are generated into ``run/invoices`` for that month (billing the measured usage where a
    contract
    bills usage, plus the planted problems); history missing for the month is loaded at 5-minute
    resolution."""
    from billing_etl.config import load_billing_config
    from billing_etl.run import run_period, summary_text
    from billing_etl.usage import measure_usage
    from collector.demo.history import load_history

    today = today or dt.datetime.now(dt.UTC).date()
    period = Period.containing(today).previous()
    config = load_billing_config(ctx.settings, inventory=ctx.inventory)
    lines = [line.id for line in ctx.inventory.polled_lines()]
    usage = measure_usage(ctx.influx, period, lines)
    if not any(u.has_data for u in usage.values()):
        log.info("no demo history for %s: loading it at 5-minute resolution", period)
        load_history(ctx.influx, ctx.inventory, start_s=period.start_s, end_s=period.end_s, step_s=300)
        usage = measure_usage(ctx.influx, period, lines)
    invoice_dir = Path(ctx.run_dir) / "invoices"
    calls_path = Path(ctx.run_dir) / "var" / "calls.sqlite"  # the voice backfill's call store (demo setup)
    voice = voice_demo(config, period, calls_path)
    write_demo_invoices(invoice_dir, period, usage=usage, voice=voice)
    report = run_period(
        ctx.settings,
        period,
        client=ctx.influx,
        config=config,
        invoice_dir=invoice_dir,
        out_dir=Path(ctx.run_dir) / "exports",
        progress_enabled=False,
        store_path=Path(ctx.run_dir) / "var" / "billing.sqlite",
        call_store_path=calls_path,
    )
    print(summary_text(report), flush=True)
    _trends(ctx, today=today)
    return report


def _trends(ctx: Any, *, today: dt.date) -> None:
    """The trends job on the demo history (after the billing run: its projections price the current month with
    the same contracts), then the capacity outlook's first lines. A failure is logged; the billing stage's
    report stands."""
    import calendar

    from billing_etl.trends import outlook_text, run_trends
    from linewatch.trends.outlook import read_outlook

    now_s = None if today == dt.datetime.now(dt.UTC).date() else calendar.timegm(today.timetuple()) + 12 * 3600
    try:
        trends = run_trends(ctx.settings, ctx.inventory, ctx.influx, now_s=now_s)
        print(trends.summary_text().splitlines()[0], flush=True)
        print(outlook_text(read_outlook(ctx.influx), limit=5), flush=True)
    except Exception:  # the demo goes on without an outlook; the log says why
        log.exception("trends job failed in the demo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write the demo invoices for a period")
    parser.add_argument("--period", required=True, type=Period.parse)
    parser.add_argument("--out", type=Path, default=Path("config/demo-invoices"))
    args = parser.parse_args(argv)
    for path in write_demo_invoices(args.out, args.period):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
