"""The evidence pack's rendering (web/findings/evidence.py) from hand-built PackData: the PDF (WeasyPrint, A4, Korean
in Noto Sans CJK, amounts right-aligned with their currency, inline charts) read back with pdfplumber, the XLSX read
back with openpyxl, the contract in words and the chart's SVG. One pack per language for the module (WeasyPrint's
first render loads the fonts); the database and InfluxDB side is tests/web/test_evidence_pack.py."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import math
import re
from decimal import Decimal
from typing import Any

import pytest

from billing_etl.usage import LineUsage
from web.findings.evidence import SHEETS, EvidencePack, render_pack
from web.findings.evidence_chart import chart_svg, down_runs
from web.findings.evidence_data import (
    ChargeRow,
    ContractTerms,
    CreditTier,
    DownBucket,
    FindingItem,
    Measurement,
    PackData,
    Sample,
)
from web.findings.evidence_format import clauses, money_text, rate_text

D = Decimal
PERIOD = "2026-11"
START = calendar.timegm((2026, 11, 1, 0, 0, 0))
OUTAGE = START + 5 * 86400 + 3600  # 2026-11-06 01:00 UTC, 45 minutes
SAMPLES = tuple(Sample(START + 300 * i, 40e6 + 30e6 * math.sin(i / 50), 10e6 + 5e6 * math.cos(i / 70))
                for i in range(8640))
USAGE = LineUsage("FRA-INET-1", PERIOD, "max", 8640, 68.5e6, 1.3e12, 3.2e11, 40e6, 10e6, 70.0, 100_000_000,
                  0.0, 0.0, 100.0)
AVAILABILITY = LineUsage("SEL-MPLS-2", PERIOD, "max", 8640, 1e6, 1e9, 1e9, 1e6, 1e6, 1.0, 50_000_000, 45.0, 0.0,
                         99.8958)
FINDINGS = (
    FindingItem("F-11", "usage_mismatch", "INV-2026-11-001", "FRA-INET-1", "OBS-FR-77812",
                "95th percentile billed 80 Mbit/s, measured 68.5 Mbit/s", D("143.75"), D("143.75"), "EUR"),
    FindingItem("F-12", "sla_credit_owed", "INV-2026-11-001", "SEL-MPLS-2", "OBS-KR-1002",
                "availability 99.8958 % below the 99.9 % target: 10 % of the MRC owed", D("80.00"), D("80.00"), "EUR"),
    FindingItem("F-13", "ghost_circuit", "INV-2026-11-001", "", "OBS-XX-0009", "circuit not in the inventory",
                D("1234.50"), D("1234.50"), "EUR"),
)
CHARGES = (
    ChargeRow("INV-2026-11-001", dt.date(2026, 12, 1), "OBS-FR-77812", "FRA-INET-1", "usage", dt.date(2026, 11, 1),
              dt.date(2026, 11, 30), D("30.5"), D("12.5"), D("381.25"), "EUR", "=HYPERLINK(\"x\") burst", "inv.csv:4"),
    ChargeRow("INV-2026-11-001", dt.date(2026, 12, 1), "OBS-XX-0009", "", "monthly_recurring", None, None, None, None,
              D("1234.50"), "EUR", "Ghost circuit", "inv.csv:9"),
)
CONTRACTS = (
    ContractTerms("FRA-INET-1", "OBS-FR-77812", "EUR", D("500"), "burstable_95th", commit_bps=50_000_000,
                  capacity_bps=100_000_000, price_per_mbps=D("12.5")),
    ContractTerms("SEL-MPLS-2", "OBS-KR-1002", "EUR", D("800"), "flat", capacity_bps=50_000_000,
                  sla_target_pct=D("99.9"), sla_cap_pct=D("50"),
                  tiers=(CreditTier(D("99.9"), D("10")), CreditTier(D("99.0"), D("25"))),
                  term_start=dt.date(2025, 1, 1), term_months=36, auto_renew=True, renewal_months=12,
                  notice_days=90),
)
MEASUREMENTS = (
    Measurement("FRA-INET-1", "usage", PERIOD, 50_000_000, True, SAMPLES, (), USAGE),
    Measurement("SEL-MPLS-2", "availability", PERIOD, 50_000_000, False, (),
                tuple(DownBucket(OUTAGE + 300 * k, 300.0) for k in range(9)), AVAILABILITY),
    Measurement("LON-MPLS-3", "usage", PERIOD, error="InfluxConnectionError"),
)
DATA = PackData("DSP-7", "Orange Business", PERIOD, "EUR", D("1458.25"), dt.datetime(2026, 12, 2, 5, 0, tzinfo=dt.UTC),
                FINDINGS, CHARGES, CONTRACTS, MEASUREMENTS, ("OBS-XX-0009",), carrier_reference="ORG-2211")
pytestmark = pytest.mark.slow  # two packs rendered (WeasyPrint's fonts, two 8,640-row sheets): ~10 s
HEADINGS = {"en": ["Invoice lines", "Contract", "Measured usage and availability", "Computation"],
            "ko": ["청구서 항목", "계약 조건", "측정 사용량 및 가용성", "계산 내역"]}


@pytest.fixture(scope="module")
def packs() -> dict[str, EvidencePack]:
    return {lang: render_pack(DATA, language=lang) for lang in ("en", "ko")}


def _pdf(pack: EvidencePack):
    import pdfplumber

    return pdfplumber.open(io.BytesIO(pack.pdf))


def _text(pack: EvidencePack) -> str:
    """The PDF's text, lines joined by a space (a long reason wraps)."""
    with _pdf(pack) as pdf:
        return " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)


_BOOKS: dict[int, Any] = {}


def _workbook(pack: EvidencePack) -> Any:
    """The pack's workbook, read once (its Usage sheet has 8,640 rows)."""
    from openpyxl import load_workbook

    if id(pack) not in _BOOKS:
        _BOOKS[id(pack)] = load_workbook(io.BytesIO(pack.xlsx))
    return _BOOKS[id(pack)]


def test_the_files_are_named_for_the_dispute_and_period(packs):
    assert (packs["ko"].pdf_name, packs["ko"].xlsx_name) == ("DSP-7-evidence-2026-11.pdf", "DSP-7-evidence-2026-11.xlsx")


def test_the_pack_goes_out_as_two_outbox_attachments(packs):
    pdf, xlsx = packs["en"].attachments()
    assert (pdf.filename, pdf.content_type, pdf.data[:5]) == ("DSP-7-evidence-2026-11.pdf", "application/pdf", b"%PDF-")
    assert xlsx.filename.endswith(".xlsx") and xlsx.content_type.endswith(".sheet") and xlsx.data[:2] == b"PK"


def test_the_korean_pdf_is_a4_with_the_headings_in_hangul_set_in_noto_sans_cjk(packs):
    with _pdf(packs["ko"]) as pdf:
        assert all((round(p.width), round(p.height)) == (595, 842) for p in pdf.pages)  # A4 in points
        fonts = {c["fontname"] for page in pdf.pages for c in page.chars}
        hangul = {c["fontname"] for page in pdf.pages for c in page.chars if "\uac00" <= c["text"] <= "\ud7a3"}
    text = _text(packs["ko"])
    assert "이의 제기 증빙 자료 DSP-7" in text
    assert hangul and all(re.search(r"Noto-?Sans-?CJK", f) for f in hangul), fonts


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_pdf_has_the_four_parts_in_order(packs, lang):
    text = _text(packs[lang])
    positions = [text.index(f"{i}. {heading}") for i, heading in enumerate(HEADINGS[lang], start=1)]
    assert positions == sorted(positions)


def test_the_pdf_shows_the_rows_the_contract_in_words_the_figures_and_the_computation(packs):
    text = _text(packs["en"])
    for expected in ("INV-2026-11-001", "381.25 EUR", "inv.csv:4", "ORG-2211",
                     "12.50 EUR per Mbit/s of the 95th percentile above 50 Mbit/s",
                     "availability below 99.9 %: 10 % of the MRC; availability below 99 %: 25 % of the MRC",
                     "68.5 Mbit/s", "99.896 %", "45 min",
                     "The measurements could not be read (InfluxConnectionError).",
                     "Circuit OBS-XX-0009 is not one of our lines",
                     "95th percentile billed 80 Mbit/s,", "measured 68.5 Mbit/s", "Usage charge", "1,458.25 EUR"):
        assert expected in text, expected


def test_amounts_are_right_aligned_with_their_currency(packs):
    """In the computation table each amount column ends at one x: the numbers are right-aligned, the code last."""
    with _pdf(packs["en"]) as pdf:
        page = next(p for p in pdf.pages if "4. Computation" in p.extract_text())
        words = page.extract_words()
    ends = {}
    for amount in ("143.75", "80.00", "1,234.50"):
        cells = [w for w in words if w["text"] == amount]
        eur = [w for w in words if w["text"] == "EUR"
               and any(abs(w["top"] - c["top"]) < 1 and 0 < w["x0"] - c["x1"] < 6 for c in cells)]
        ends[amount] = sorted(round(w["x1"]) for w in eur)
    # Each amount is at stake and recoverable: two columns, each with one right edge for every row.
    assert len(ends["143.75"]) == 2 and ends["143.75"] == ends["80.00"] == ends["1,234.50"]
    assert ends["143.75"][1] > page.width - 60  # the last column ends at the right margin


def test_the_charts_are_drawn_into_the_pdf(packs):
    with _pdf(packs["en"]) as pdf:
        page = next(p for p in pdf.pages if "FRA-INET-1: 5-minute traffic" not in (p.extract_text() or "")
                    and "95th percentile" in (p.extract_text() or ""))
        assert len(page.curves) + len(page.lines) + len(page.rects) > 20


def test_the_chart_svg_shows_in_out_and_a_dashed_commit_and_is_the_same_every_time():
    first = chart_svg(MEASUREMENTS[0], "en", id_prefix="a-")
    assert first == chart_svg(MEASUREMENTS[0], "en", id_prefix="a-")
    assert first.startswith("<svg") and "stroke-dasharray" in first and 'style="' not in first
    other = chart_svg(MEASUREMENTS[1], "en", id_prefix="b-")
    ids = lambda svg: set(re.findall(r'\bid="([^"]+)"', svg))
    assert ids(first) and ids(other) and not ids(first) & ids(other)


@pytest.mark.parametrize(("starts", "runs"), [
    ((), []),
    ((0,), [(0, 300)]),
    ((0, 300, 600), [(0, 900)]),
    ((600, 0, 300, 1800), [(0, 900), (1800, 2100)]),
], ids=["none", "one-bucket", "three-consecutive", "two-outages-unsorted"])
def test_down_buckets_merge_into_outages(starts, runs):
    assert down_runs(starts) == runs


def test_the_xlsx_has_the_four_sheets_with_headers_in_the_packs_language(packs):
    wb = _workbook(packs["ko"])
    assert wb.sheetnames == list(SHEETS)
    assert [c.value for c in wb["Invoice lines"][1]][:3] == ["청구서", "청구일", "회선 번호"]
    assert [c.value for c in wb["Computation"][1]][-3:] == ["쟁점 금액", "환급 대상 금액", "통화"]
    assert [c.value for c in _workbook(packs["en"])["Usage"][1]] == [
        "Line", "Time (UTC)", "In (Mbit/s)", "Out (Mbit/s)", "Commit or capacity (Mbit/s)", "Down (minutes)"]


def test_the_xlsx_usage_sheet_holds_the_figures_behind_each_chart(packs):
    rows = list(_workbook(packs["en"])["Usage"].iter_rows(min_row=2, values_only=True))
    usage = [r for r in rows if r[0] == "FRA-INET-1"]
    down = [r for r in rows if r[0] == "SEL-MPLS-2"]
    assert len(usage) == 8640 and len(down) == 9
    assert usage[0][1] == "2026-11-01 00:00" and usage[1][2] == pytest.approx(SAMPLES[1].in_bps / 1e6)
    assert usage[0][4] == 50.0  # the commit
    assert down[0][1] == "2026-11-06 01:00" and sum(r[5] for r in down) == 45.0


def test_the_xlsx_amounts_are_numbers_in_the_currency_format_and_carrier_text_stays_text(packs):
    ws = _workbook(packs["en"])["Invoice lines"]
    amount = ws.cell(row=2, column=10)
    assert amount.value == 381.25 and amount.number_format == '#,##0.00 "EUR";-#,##0.00 "EUR"'
    description = ws.cell(row=2, column=12)
    assert description.data_type == "s" and description.value.startswith("=HYPERLINK")
    computation = list(_workbook(packs["en"])["Computation"].iter_rows(min_row=2, values_only=True))
    assert computation[-2][0] == "Total" and computation[-2][5:7] == (1458.25, 1458.25)
    assert computation[-1][0] == "Amount claimed in this dispute" and computation[-1][6] == 1458.25


@pytest.mark.parametrize(("terms", "expected"), [
    (ContractTerms("L", "C", "KRW", D("1500000"), "flat", capacity_bps=1_000_000_000),
     [("Monthly recurring charge", "1,500,000 KRW"), ("Billing model", "Flat rate"), ("Capacity", "1 Gbit/s")]),
    (ContractTerms("L", "C", "USD", D("900"), "volume_quota", included_gb=D("500.000"), price_per_gb=D("0.25")),
     [("Monthly recurring charge", "900.00 USD"), ("Billing model", "Volume quota"), ("Included volume", "500 GB"),
      ("Over the quota", "0.25 USD per GB above 500 GB a month")]),
    (ContractTerms("L", "C", "EUR", D("100"), "flat", sla_target_pct=D("99.95"), sla_cap_pct=D("100"),
                   tiers=(CreditTier(D("99.0"), D("25")), CreditTier(D("99.95"), D("5"))), term_start=dt.date(2026, 1, 1),
                   term_months=12),
     [("Monthly recurring charge", "100.00 EUR"), ("Billing model", "Flat rate"), ("SLA availability target", "99.95 %"),
      ("SLA credits", "availability below 99.95 %: 5 % of the MRC; availability below 99 %: 25 % of the MRC"),
      ("SLA credit cap", "at most 100 % of the MRC a month"), ("Term", "12 months from 2026-01-01")]),
], ids=["flat-krw", "volume-quota", "sla-tiers-highest-first"])
def test_the_contract_in_words(terms, expected):
    assert clauses(terms, "en") == expected


@pytest.mark.parametrize(("bps", "shown"), [
    (None, "–"), (512_000, "512 kbit/s"), (50_000_000, "50 Mbit/s"), (68_500_000, "68.5 Mbit/s"),
    (1_500_000_000, "1.5 Gbit/s"), (950_000_000, "950 Mbit/s"), (10**10, "10 Gbit/s")])
def test_rates_in_a_readable_unit(bps, shown):
    assert rate_text(bps) == shown


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (D("1234.5"), "EUR", "1,234.50 EUR"), (D("-50000.4"), "KRW", "-50,000 KRW"), (D("1.2345"), "BHD", "1.235 BHD")])
def test_amounts_in_the_currencys_minor_unit(amount, currency, shown):
    assert money_text(amount, currency) == shown


def test_pack_data_refuses_a_naive_time_and_mixed_currencies():
    with pytest.raises(ValueError, match="generated_at"):
        PackData("DSP-1", "C", PERIOD, "EUR", D(1), dt.datetime(2026, 12, 1), ())
    with pytest.raises(ValueError, match="findings: one currency"):
        PackData("DSP-1", "C", PERIOD, "USD", D(1), DATA.generated_at, FINDINGS)


def test_evidence_pdf_never_fetches_a_url(tmp_path):
    """A file:// or http:// reference in the pack's HTML is not read: the fetcher takes data: URIs only."""
    from weasyprint import HTML

    from web.findings.evidence import no_fetch

    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>SECRET</text></svg>')
    pdf = HTML(string=f'<p>x</p><img src="file://{secret}">', url_fetcher=no_fetch()).write_pdf()
    allowed = HTML(string=f'<p>x</p><img src="file://{secret}">').write_pdf()  # the default fetcher reads it
    assert len(pdf) < len(allowed)
    with pytest.raises(Exception, match="(?i)protocol|not allowed"):
        no_fetch().fetch("http://169.254.169.254/latest/meta-data/")
