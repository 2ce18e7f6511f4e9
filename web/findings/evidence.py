"""A dispute's evidence pack: a PDF for people and an XLSX with the figures, in the pack's language (English or
Korean), from :class:`~web.findings.evidence_data.PackData` (docs/evidence.md).

Four parts, in the PDF as sections and in the XLSX as the sheets "Invoice lines", "Contract", "Usage" and
"Computation": the invoice rows the findings are about; the contract of each line in words; what was measured on
each line in the period (a chart, matplotlib SVG inline, and the ETL's figures; the XLSX holds the 5-minute
values behind the chart); each finding's reason and amount, and the total claimed.

* :func:`build_pack` gathers (database, InfluxDB) and renders; :func:`render_pdf` and :func:`render_xlsx` render
  a :class:`PackData` alone.
* :func:`store_pack` keeps the two files under ``STATE_DIR/evidence/dispute-<pk>/`` (folder 0700, files 0600:
  invoices and contract terms are nobody else's business) and names them on the dispute; :func:`open_file` reads
  one back.

The PDF is WeasyPrint from ``findings/evidence/pack.html`` (A4, Noto Sans CJK, which has Hangul and Latin);
the XLSX is :func:`billing_etl.exports.write_xlsx` (the exports' header style, per-currency money formats,
formula-like text kept text, deterministic file).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from billing_etl.exports import Column, Table, write_xlsx
from billing_etl.labels import parse_language
from linewatch.choices import AuditRule, ChargeType
from linewatch.fileperms import ensure_private_dir, write_private
from linewatch.influx import InfluxClient
from web.findings.evidence_chart import chart_svg
from web.findings.evidence_data import Measurement, PackData, gather
from web.findings.evidence_format import (
    bytes_text,
    clauses,
    day_text,
    minutes_text,
    money_text,
    pct_text,
    rate_text,
)
from web.findings.evidence_labels import TEXTS, enum_text, text, texts

PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = ("Invoice lines", "Contract", "Usage", "Computation")
TEMPLATE = "findings/evidence/pack.html"
FileKind = Literal["pdf", "xlsx"]


@dataclass(frozen=True)
class EvidencePack:
    """The two files of a pack and their names (``DSP-7-evidence-2026-11.pdf`` / ``.xlsx``)."""

    pdf: bytes
    xlsx: bytes
    pdf_name: str
    xlsx_name: str

    def attachments(self) -> list[Any]:
        """The pack as outbox attachments (PDF, then XLSX)."""
        from web.notify.outbox import Attachment

        return [Attachment(self.pdf_name, PDF_TYPE, self.pdf), Attachment(self.xlsx_name, XLSX_TYPE, self.xlsx)]


def file_stem(data: PackData) -> str:
    return f"{data.reference}-evidence-{data.period}"


def build_pack(dispute: Any, *, language: str, client: InfluxClient | None = None) -> EvidencePack:
    """The evidence pack of ``dispute`` in ``language`` ("en" or "ko"): its findings' invoice rows, contracts and
    the period's measurements (``client``, else the app's InfluxDB). InfluxDB down does not stop it: the pack
    says the measurements could not be read."""
    language = parse_language(language).value
    return render_pack(gather(dispute, client=client), language=language)


def render_pack(data: PackData, *, language: str) -> EvidencePack:
    stem = file_stem(data)
    return EvidencePack(pdf=render_pdf(data, language=language), xlsx=render_xlsx(data, language=language),
                        pdf_name=f"{stem}.pdf", xlsx_name=f"{stem}.xlsx")


# -- PDF -----------------------------------------------------------------------------------------------------------


def _measurement_view(m: Measurement, language: str, index: int) -> dict[str, Any]:
    u = m.usage
    figures: list[tuple[str, str]] = []
    if u is not None and u.has_data:
        if m.kind == "usage":
            figures += [(text("p95", language), rate_text(u.p95_bps)),
                        (text("mean_in_out", language), f"{rate_text(u.mean_in_bps)} / {rate_text(u.mean_out_bps)}"),
                        (text("peak_util", language), pct_text(u.peak_util_pct, 1)),
                        (text("volume_in_out", language), f"{bytes_text(u.in_bytes)} / {bytes_text(u.out_bytes)}")]
        figures += [(text("measured_availability", language), pct_text(u.availability_pct)),
                    (text("down_total", language), minutes_text(u.down_minutes)),
                    (text("no_data", language), minutes_text(u.no_data_minutes)),
                    (text("samples", language), f"{u.samples_5m:,}")]
    note = ""
    if m.error:
        note = text("measure_error", language, error=m.error)
    elif not m.has_data:
        note = text("no_measurement", language)
    chart = chart_svg(m, language, id_prefix=f"c{index}-") if m.has_data and not m.error else ""
    return {"line": m.line, "chart": chart,
            "figures": figures, "note": note}


def pdf_context(data: PackData, language: str) -> dict[str, Any]:
    """What the template shows, every text already in ``language`` and every number formatted."""
    zone = ZoneInfo(data.timezone)
    at = data.generated_at.astimezone(zone)
    c = data.currency
    return {
        "lang": language, "t": texts(language),
        "title": text("title", language, reference=data.reference),
        "subtitle": text("subtitle", language, carrier=data.carrier, period=data.period),
        "quote": text("quote", language, reference=data.reference),
        "data": data, "claimed": money_text(data.claimed_amount, c),
        "generated": f"{at:%Y-%m-%d %H:%M} {at.tzname()}",
        "charges": [{"invoice": r.invoice_number, "date": day_text(r.invoice_date), "circuit": r.circuit_id,
                     "line": r.line, "type": enum_text(ChargeType, r.charge_type, language),
                     "service": f"{day_text(r.period_start)} – {day_text(r.period_end)}"
                     if r.period_start or r.period_end else "",
                     "amount": money_text(r.amount, r.currency), "description": r.description, "source": r.source}
                    for r in data.charges],
        "contracts": [{"line": t.line, "circuit": t.circuit_id, "clauses": clauses(t, language)}
                      for t in data.contracts],
        "no_contract": sorted({f.line for f in data.findings if f.line} - {t.line for t in data.contracts}),
        "measurements": [_measurement_view(m, language, i) for i, m in enumerate(data.measurements)],
        "unknown": [text("not_in_inventory", language, circuit=cid) for cid in data.unknown_circuits],
        "findings": [{"ref": f.ref, "rule": enum_text(AuditRule, f.rule, language), "invoice": f.invoice_number,
                      "line": f.line or f.circuit_id, "reason": f.reason,
                      "at_stake": money_text(f.amount_at_stake, f.currency),
                      "recoverable": money_text(f.recoverable, f.currency)} for f in data.findings],
        "total_at_stake": money_text(data.total_at_stake, c),
        "total_recoverable": money_text(data.total_recoverable, c),
    }


def render_pdf(data: PackData, *, language: str) -> bytes:
    """The pack as an A4 PDF (WeasyPrint) in ``language``."""
    from django.template.loader import render_to_string
    from weasyprint import HTML

    language = parse_language(language).value
    html = render_to_string(TEMPLATE, pdf_context(data, language))
    return HTML(string=html, base_url=None, url_fetcher=no_fetch()).write_pdf()


def no_fetch() -> Any:
    """WeasyPrint's resource fetcher for the pack: only ``data:`` URIs. The pack is self-contained (inline SVG,
    system fonts), so a ``file://`` or ``http://`` reference that reached the HTML through a carrier's text is
    never read."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


# -- XLSX ----------------------------------------------------------------------------------------------------------


def _col(name: str, kind: Any = "text") -> Column:
    """A column whose header is the pack's text ``name`` (English and Korean)."""
    return Column(name, kind, label=TEXTS[name])


def _usage_rows(m: Measurement) -> list[list[Any]]:
    limit = m.limit_bps / 1e6 if m.limit_bps else None
    stamp = "%Y-%m-%d %H:%M"
    if m.kind == "usage":
        return [[m.line, dt.datetime.fromtimestamp(s.start_s, dt.UTC).strftime(stamp),
                 None if s.in_bps is None else s.in_bps / 1e6, None if s.out_bps is None else s.out_bps / 1e6,
                 limit, None] for s in m.samples]
    return [[m.line, dt.datetime.fromtimestamp(b.start_s, dt.UTC).strftime(stamp), None, None, limit,
             b.down_s / 60] for b in m.down]


def xlsx_tables(data: PackData, language: str) -> list[Table]:
    """The four sheets (:data:`SHEETS`), headers labelled in both languages (the writer picks ``language``)."""
    invoice = Table(SHEETS[0], [
        _col("invoice"), _col("invoice_date", "date"), _col("circuit_id"), _col("line"), _col("charge_type"),
        _col("service_from", "date"), _col("service_to", "date"), _col("quantity", "float"),
        _col("unit_price", "money"), _col("amount", "money"), _col("currency"), _col("description"),
        _col("source")], currency_column="currency")
    invoice.rows = [[r.invoice_number, r.invoice_date, r.circuit_id, r.line,
                     enum_text(ChargeType, r.charge_type, language), r.period_start, r.period_end,
                     None if r.quantity is None else float(r.quantity), r.unit_price, r.amount, r.currency,
                     r.description, r.source] for r in data.charges]
    contract = Table(SHEETS[1], [_col("line"), _col("circuit_id"), _col("term"), _col("value")])
    contract.rows = [[t.line, t.circuit_id, term, wording] for t in data.contracts
                     for term, wording in clauses(t, language)]
    usage = Table(SHEETS[2], [_col("line"), _col("time"), _col("in_mbps", "float"), _col("out_mbps", "float"),
                              _col("limit_mbps", "float"), _col("down_min", "float")])
    usage.rows = [row for m in data.measurements for row in _usage_rows(m)]
    computation = Table(SHEETS[3], [
        _col("finding"), _col("rule"), _col("invoice"), _col("line"), _col("reason"),
        _col("at_stake", "money"), _col("recoverable", "money"), _col("currency")], currency_column="currency")
    computation.rows = [[f.ref, enum_text(AuditRule, f.rule, language), f.invoice_number, f.line or f.circuit_id,
                         f.reason, f.amount_at_stake, f.recoverable, f.currency] for f in data.findings]
    computation.rows += [
        [text("total", language), "", "", "", "", data.total_at_stake, data.total_recoverable, data.currency],
        [text("claim_line", language), "", "", "", "", None, data.claimed_amount, data.currency]]
    return [invoice, contract, usage, computation]


def render_xlsx(data: PackData, *, language: str) -> bytes:
    """The pack's figures as an XLSX workbook in ``language`` (sheets :data:`SHEETS`)."""
    language = parse_language(language).value
    stamp = data.generated_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    with tempfile.TemporaryDirectory(prefix="lw-evidence-") as tmp:
        path = write_xlsx(xlsx_tables(data, language), Path(tmp) / "pack.xlsx", title=file_stem(data),
                          stamp=stamp, mode=0o600, language=language)
        return path.read_bytes()


# -- storage -------------------------------------------------------------------------------------------------------


def evidence_dir(dispute: Any) -> Path:
    from django.conf import settings

    return Path(settings.STATE_DIR) / "evidence" / f"dispute-{int(dispute.pk)}"


def store_pack(dispute: Any, pack: EvidencePack) -> None:
    """Keep the pack's files (replacing an earlier pack of the dispute) and record their names on the dispute
    (``evidence_pdf_name``, ``evidence_xlsx_name``, saved)."""
    ensure_private_dir(evidence_dir(dispute).parent)
    folder = ensure_private_dir(evidence_dir(dispute))
    for name, body in ((pack.pdf_name, pack.pdf), (pack.xlsx_name, pack.xlsx)):
        _check_name(name)
        write_private(folder / name, body)
    dispute.evidence_pdf_name, dispute.evidence_xlsx_name = pack.pdf_name, pack.xlsx_name
    dispute.save(update_fields=["evidence_pdf_name", "evidence_xlsx_name", "last_updated"])


def open_file(dispute: Any, kind: FileKind) -> bytes:
    """The stored PDF or XLSX of the dispute's pack; FileNotFoundError when none was stored."""
    if kind not in ("pdf", "xlsx"):
        raise ValueError(f"kind: {kind!r} is not pdf or xlsx")
    name = dispute.evidence_pdf_name if kind == "pdf" else dispute.evidence_xlsx_name
    if not name:
        raise FileNotFoundError(f"dispute {dispute.reference}: no evidence {kind} stored")
    _check_name(name)
    return (evidence_dir(dispute) / name).read_bytes()


def _check_name(name: str) -> None:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"evidence file name {name!r}: a plain file name only")


def content_type(kind: FileKind) -> str:
    return PDF_TYPE if kind == "pdf" else XLSX_TYPE


__all__ = ["SHEETS", "EvidencePack", "build_pack", "content_type", "open_file", "render_pack", "render_pdf",
           "render_xlsx", "store_pack", "xlsx_tables"]
