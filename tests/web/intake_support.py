"""Shared by the intake tests: a carriers.yaml with one CSV carrier, its invoice files, and emails carrying them."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml

from linewatch.choices import ContactRole
from linewatch.settings import IntakeSettings

CARRIER = "Acme Telecom"
BILLING_DOMAIN = "acme.example"
REPORT_TO = "finance@linewatch.example"
HEADER = "Invoice,Date,Due,Circuit,Type,From,To,Amount,Description"


@pytest.fixture
def intake_env(tmp_path: Path, settings: Any, db: Any) -> dict[str, Any]:
    """carriers.yaml with Acme (CSV, ``acme-*.csv``) and Other (XLSX), a state folder of this test's own, a drop
    folder, reports to REPORT_TO; Acme in the inventory with a billing contact at acme.example."""
    from web.inventory.models import Carrier, Contact

    carriers = write_carriers_yaml(tmp_path / "carriers.yaml")
    folder = tmp_path / "drop"
    folder.mkdir()
    settings.STATE_DIR = tmp_path / "state"
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={
        "carriers_path": carriers,
        "intake": IntakeSettings(folder=folder, report_to=[REPORT_TO]),
    })  # fmt: skip
    carrier = Carrier.objects.create(name=CARRIER, currency="EUR")
    Contact.objects.create(carrier=carrier, role=ContactRole.BILLING, name="Acme billing",
                           email=f"billing@{BILLING_DOMAIN}")
    return {"folder": folder, "carrier": carrier, "state": tmp_path / "state"}


def write_carriers_yaml(path: Path) -> Path:
    data = {
        "invoice_dir": "invoices",
        "carriers": [{
            "name": CARRIER, "files": ["acme-*.csv"], "currency": "EUR",
            "layout": {"format": "csv", "columns": {
                "invoice_number": "Invoice", "invoice_date": "Date", "due_date": "Due", "circuit_id": "Circuit",
                "charge_type": "Type", "period_start": "From", "period_end": "To", "amount": "Amount",
                "description": "Description"},
                "charge_types": {"MRC": "monthly_recurring", "CRD": "credit"}},
        }, {
            "name": "Other Carrier", "files": ["other-*.xlsx"], "currency": "EUR",
            "layout": {"format": "xlsx", "columns": {
                "invoice_number": "Invoice", "invoice_date": "Date", "charge_type": "Type", "amount": "Amount"},
                "charge_types": {"MRC": "monthly_recurring"}},
        }],
    }  # fmt: skip
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def invoice_csv(number: str, *, amounts: tuple[str, ...] = ("100.00", "250.00"), bad_amount: str | None = None) -> bytes:
    """An Acme invoice of November 2026: one MRC row per amount (and a row whose amount is ``bad_amount``)."""
    rows = [HEADER]
    for i, amount in enumerate(amounts):
        rows.append(f"{number},2026-11-30,2026-12-30,ACME-{i:04d},MRC,2026-11-01,2026-11-30,{amount},Line {i}")
    if bad_amount is not None:
        rows.append(f"{number},2026-11-30,2026-12-30,ACME-9999,MRC,2026-11-01,2026-11-30,{bad_amount},Broken row")
    return ("\n".join(rows) + "\n").encode()


def email_with(*attachments: tuple[str, bytes, str], sender: str = f"billing@{BILLING_DOMAIN}",
               subject: str = "Your invoice", message_id: str | None | Any = ...) -> EmailMessage:
    """A real MIME message with the given ``(filename, data, mime type)`` attachments; ``message_id=None`` leaves the
    header out."""
    msg = EmailMessage()
    msg["From"] = f"Acme Billing <{sender}>"
    msg["To"] = "invoices@linewatch.example"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 30 Nov 2026 09:00:00 +0000"
    if message_id is ...:
        message_id = f"<{uuid.uuid4().hex}@{BILLING_DOMAIN}>"
    if message_id is not None:
        msg["Message-ID"] = message_id
    msg.set_content("Dear customer, please find your invoice attached.")
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def docx_bytes() -> bytes:
    """A minimal .docx (a ZIP with a Word document part): an attachment that is no invoice."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # fixed timestamps: the same bytes on every call
        for name, text in (("[Content_Types].xml", "<Types/>"),
                           ("word/document.xml", "<w:document>Terms and conditions</w:document>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 30, 9, 0, 0)), text)
    return buffer.getvalue()


def text_pdf(text: str = "Quarterly newsletter") -> bytes:
    """A one-page text PDF rendered by WeasyPrint (a PDF of no known carrier)."""
    from weasyprint import HTML

    return HTML(string=f"<p>{text}</p>").write_pdf()
