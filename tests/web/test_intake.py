"""The invoice intake (web/intake): the drop folder and the IMAP mailbox (the session dovecot), each message and
file exactly once, outcomes recorded with their reasons and mailed to intake.report_to through the outbox."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import intake_support
import pytest
from intake_support import (
    BILLING_DOMAIN,
    CARRIER,
    REPORT_TO,
    docx_bytes,
    email_with,
    invoice_csv,
    text_pdf,
)
from notify_support import alerting_fixtures, write_alerts_yaml

from billing_etl.store import InvoiceStore
from linewatch.choices import IntakeOutcome, IntakeSourceKind, MessageKind
from linewatch.settings import ImapSettings
from web.intake import collect
from web.intake.models import IntakeFile, IntakeMessage
from web.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db
CSV = "text/csv"
intake_env = intake_support.intake_env
tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook


@pytest.fixture
def intake_smtp(tmp_path: Path, settings: Any, smtp_factory: Any, webhook: Any, tls_cert: Any) -> Any:
    """The test SMTP server (aiosmtpd, STARTTLS + AUTH) behind the app's mail receiver (alerts.yaml)."""
    smtp = smtp_factory("starttls")
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0], slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": path})
    return smtp


def _stored_invoices() -> list[str]:
    with InvoiceStore(collect.store_path()) as store:
        return [inv.invoice_number for inv in store.invoices()]


def _reports() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(key__startswith="intake-report-").order_by("pk"))


# -- the drop folder -----------------------------------------------------------------------------------------------


def test_a_folder_invoice_is_imported_mirrored_reported_and_moved(intake_env):
    from web.invoices.models import Invoice

    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-1001"))
    [row] = collect.collect_folder(settle_s=0)
    assert (row.outcome, row.source, row.carrier, row.invoices) == (
        IntakeOutcome.IMPORTED, IntakeSourceKind.FOLDER, intake_env["carrier"], ["ACME-1001"])
    assert (row.rows_imported, row.rows_quarantined) == (2, 0)
    assert _stored_invoices() == ["ACME-1001"]
    assert Invoice.objects.filter(number="ACME-1001", carrier=intake_env["carrier"]).exists()
    assert (intake_env["folder"] / "imported" / "acme-2026-11.csv").is_file()
    assert not (intake_env["folder"] / "acme-2026-11.csv").exists()
    [report] = _reports()
    assert report.recipients == [{"kind": "email", "address": REPORT_TO, "language": "en", "timezone": "UTC"}]
    assert "acme-2026-11.csv" in report.subject and "ACME-1001" in report.text
    assert row.reported_at is not None


def test_a_file_of_no_carrier_is_rejected_naming_the_patterns_tried_and_moved_to_rejected(intake_env):
    (intake_env["folder"] / "invoice-november.csv").write_bytes(invoice_csv("X-1"))
    [row] = collect.collect_folder(settle_s=0)
    assert row.outcome == IntakeOutcome.REJECTED
    assert "'invoice-november.csv'" in row.reason
    assert "Acme Telecom: acme-*.csv" in row.reason and "Other Carrier: other-*.xlsx" in row.reason
    assert (intake_env["folder"] / "rejected" / "invoice-november.csv").is_file()
    assert not collect.store_path().exists() or _stored_invoices() == []


def test_a_malformed_row_is_quarantined_with_its_row_and_reason_and_the_good_rows_load(intake_env):
    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-1002", bad_amount="twelve"))
    [row] = collect.collect_folder(settle_s=0)
    assert (row.outcome, row.rows_imported, row.rows_quarantined) == (IntakeOutcome.QUARANTINED, 2, 1)
    [q] = row.quarantine
    assert q["row"] == 4 and q["field"] == "Amount" and q["reason"]
    assert _stored_invoices() == ["ACME-1002"]
    [report] = _reports()
    assert "row 4, Amount:" in report.text


def test_the_same_file_dropped_again_is_a_duplicate_and_imports_nothing(intake_env):
    data = invoice_csv("ACME-1003")
    (intake_env["folder"] / "acme-a.csv").write_bytes(data)
    [first] = collect.collect_folder(settle_s=0)
    (intake_env["folder"] / "acme-b.csv").write_bytes(data)  # same bytes, another name
    [again] = collect.collect_folder(settle_s=0)
    assert (first.outcome, again.outcome) == (IntakeOutcome.IMPORTED, IntakeOutcome.DUPLICATE)
    assert "'acme-a.csv'" in again.reason and again.sha256 == first.sha256
    assert _stored_invoices() == ["ACME-1003"]
    assert (intake_env["folder"] / "imported" / "acme-b.csv").is_file()


def test_a_file_still_being_written_waits_and_temporary_names_are_never_taken(intake_env):
    folder = intake_env["folder"]
    growing = folder / "acme-growing.csv"
    growing.write_bytes(invoice_csv("ACME-1004")[:40])
    (folder / ".acme-hidden.csv").write_bytes(invoice_csv("ACME-1005"))
    (folder / "acme-upload.csv.part").write_bytes(invoice_csv("ACME-1006"))
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with growing.open("ab") as out:
                out.write(b"x")
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert collect.collect_folder(settle_s=0.3) == []
    finally:
        stop.set()
        thread.join()
    assert growing.exists() and IntakeFile.objects.count() == 0


def test_a_folder_that_does_not_exist_collects_nothing(intake_env, tmp_path):
    assert collect.collect_folder(tmp_path / "missing", settle_s=0) == []


# -- the mailbox (the session dovecot) -----------------------------------------------------------------------------


@pytest.fixture
def mailbox(dovecot_server: Any, intake_env: dict[str, Any], settings: Any) -> dict[str, Any]:
    """A mailbox of this test's own on the session dovecot, as intake.imap (STARTTLS, the fixture's CA)."""
    name = f"inbox-{uuid.uuid4().hex[:10]}"
    imap = dovecot_server.imap_settings(security="starttls", mailbox=name)
    intake = settings.LINEWATCH.intake.model_copy(update={"imap": imap})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"intake": intake})
    return {"name": name, "imap": imap, "server": dovecot_server}


def _deliver(mailbox: dict[str, Any], msg: Any) -> None:
    mailbox["server"].deliver(msg, mailbox=mailbox["name"])


def _flags(mailbox: dict[str, Any], name: str | None = None) -> list[bytes]:
    with mailbox["server"].connect() as imap:
        imap.select(f'"{name or mailbox["name"]}"')
        _status, data = imap.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        return [imap.uid("FETCH", uid, "(FLAGS)")[1][0] for uid in uids]


def test_an_emailed_invoice_is_imported_once_and_the_other_attachments_are_rejected_with_reasons(mailbox):
    _deliver(mailbox, email_with(("acme-2026-11.csv", invoice_csv("ACME-2001"), CSV),
                                 ("newsletter.pdf", text_pdf(), "application/pdf"),
                                 ("terms.docx", docx_bytes(),
                                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document")))
    rows = {row.filename: row for row in collect.collect_imap()}
    assert {name: row.outcome for name, row in rows.items()} == {
        "acme-2026-11.csv": IntakeOutcome.IMPORTED, "newsletter.pdf": IntakeOutcome.REJECTED,
        "terms.docx": IntakeOutcome.REJECTED}
    # Sent by Acme's billing address, but neither is a CSV: the reason says so after the patterns tried.
    assert "is not a csv file" in rows["terms.docx"].reason and "acme-*.csv" in rows["terms.docx"].reason
    assert "is not a csv file" in rows["newsletter.pdf"].reason
    message = IntakeMessage.objects.get()
    assert message.sender == f"billing@{BILLING_DOMAIN}" and message.subject == "Your invoice"
    assert set(message.files.values_list("filename", flat=True)) == set(rows)
    assert _stored_invoices() == ["ACME-2001"]
    assert all(b"\\Seen" in flags for flags in _flags(mailbox))
    assert len(_reports()) == 3


def test_an_invoice_named_otherwise_is_routed_by_the_senders_billing_domain(mailbox):
    _deliver(mailbox, email_with(("Rechnung November.csv", invoice_csv("ACME-2002"), CSV)))
    [row] = collect.collect_imap()
    assert (row.outcome, row.carrier_name) == (IntakeOutcome.IMPORTED, CARRIER)


def test_a_sender_of_no_carrier_is_named_in_the_rejection(mailbox):
    _deliver(mailbox, email_with(("invoice.csv", invoice_csv("X-2"), CSV), sender="ap@unknown.example"))
    [row] = collect.collect_imap()
    assert row.outcome == IntakeOutcome.REJECTED and "unknown.example is no carrier's billing contact" in row.reason


def test_the_same_message_delivered_twice_is_a_duplicate_and_imports_nothing(mailbox):
    msg = email_with(("acme-2026-11.csv", invoice_csv("ACME-2003"), CSV))
    _deliver(mailbox, msg)
    assert len(collect.collect_imap()) == 1
    _deliver(mailbox, msg)  # the carrier's mail server sent it again: same Message-ID
    assert collect.collect_imap() == []
    assert IntakeMessage.objects.get().seen_again == 1
    assert IntakeFile.objects.count() == 1 and _stored_invoices() == ["ACME-2003"]
    assert len(_flags(mailbox)) == 2 and all(b"\\Seen" in f for f in _flags(mailbox))


def test_a_message_without_message_id_is_known_by_its_sha256(mailbox):
    msg = email_with(("acme-2026-11.csv", invoice_csv("ACME-2004"), CSV), message_id=None)
    _deliver(mailbox, msg)
    _deliver(mailbox, msg)
    assert len(collect.collect_imap()) == 1
    assert IntakeMessage.objects.get().message_id.startswith("sha256:")


def test_a_message_flagged_unread_again_is_not_imported_twice(mailbox):
    _deliver(mailbox, email_with(("acme-2026-11.csv", invoice_csv("ACME-2005"), CSV)))
    collect.collect_imap()
    with mailbox["server"].connect() as imap:
        imap.select(f'"{mailbox["name"]}"')
        imap.uid("STORE", imap.uid("SEARCH", None, "ALL")[1][0], "-FLAGS", "(\\Seen)")
    assert collect.collect_imap() == []
    assert IntakeFile.objects.count() == 1


def test_processed_messages_move_to_the_processed_mailbox_when_one_is_set(mailbox, settings):
    done = f"done-{uuid.uuid4().hex[:8]}"
    imap = mailbox["imap"].model_copy(update={"processed_mailbox": done})
    _deliver(mailbox, email_with(("acme-2026-11.csv", invoice_csv("ACME-2006"), CSV)))
    assert len(collect.collect_imap(imap)) == 1
    assert _flags(mailbox) == [] and len(_flags(mailbox, done)) == 1


@pytest.mark.parametrize("security", ["ssl", "starttls", "none"])
def test_each_security_of_the_mailbox_reads_mail(mailbox, security):
    server = mailbox["server"]
    imap = server.imap_settings(security=security, mailbox=mailbox["name"])
    _deliver(mailbox, email_with(("acme-2026-11.csv", invoice_csv(f"ACME-3{len(security)}"), CSV)))
    assert [row.outcome for row in collect.collect_imap(imap)] == [IntakeOutcome.IMPORTED]


def test_a_wrong_password_is_an_error_that_does_not_show_it(mailbox):
    from web.intake.imap import ImapError

    good = mailbox["imap"]
    imap = ImapSettings(host=good.host, port=good.port, security="starttls", username=good.username,
                        password="not-the-password-8812", mailbox=good.mailbox, ca_file=good.ca_file)
    with pytest.raises(ImapError, match="login refused") as caught:
        collect.collect_imap(imap)
    assert "not-the-password-8812" not in str(caught.value)
    assert mailbox["server"].password not in str(caught.value)


def test_the_outcome_report_is_delivered_to_the_report_address_by_smtp(mailbox, intake_smtp):
    from web.notify.outbox import deliver_due

    _deliver(mailbox, email_with(("acme-2026-11.csv", invoice_csv("ACME-2007", bad_amount="n/a"), CSV)))
    [row] = collect.collect_imap()
    assert deliver_due().delivered == [m.pk for m in _reports()]
    [mail] = intake_smtp.messages
    assert mail["To"] == REPORT_TO and "acme-2026-11.csv" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "Rows quarantined: 1" in body and "row 4, Amount: 'n/a' is not a number" in body and "ACME-2007" in body
    assert mailbox["server"].password not in mail.as_string()
    assert collect.collect_imap() == [] and deliver_due().delivered == []  # nothing twice
    assert row.reported_at is not None


def test_a_report_in_korean_uses_the_korean_template(intake_env, settings):
    intake = settings.LINEWATCH.intake.model_copy(update={"report_language": "ko"})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"intake": intake})
    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-1007"))
    collect.collect_folder(settle_s=0)
    [report] = _reports()
    assert report.language == "ko" and "[청구서 수집]" in report.subject and "가져온 행: 2" in report.text


def test_no_report_address_no_report(intake_env, settings):
    intake = settings.LINEWATCH.intake.model_copy(update={"report_to": []})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"intake": intake})
    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-1008"))
    [row] = collect.collect_folder(settle_s=0)
    assert _reports() == [] and row.reported_at is None


# -- a crash between import and record, retry ----------------------------------------------------------------------


def test_a_crash_after_the_store_took_the_invoice_imports_nothing_twice(intake_env):
    """The store already holds the invoice (the crash came before the row): the file is recorded once, the store
    keeps one copy (idempotent by content hash)."""
    from billing_etl.importer import import_file

    data = invoice_csv("ACME-1009")
    path = intake_env["folder"] / "acme-2026-11.csv"
    path.write_bytes(data)
    carrier = next(c for c in collect.carriers_config().carriers if c.name == CARRIER)
    with InvoiceStore(collect.store_path()) as store:
        store.add_invoices(import_file(path, carrier).invoices)
    [row] = collect.collect_folder(settle_s=0)
    assert row.outcome == IntakeOutcome.IMPORTED and "in the invoice store already" in row.reason
    assert _stored_invoices() == ["ACME-1009"]


def test_a_rejected_file_is_retried_from_its_private_copy_once_the_configuration_knows_it(intake_env, tmp_path,
                                                                                         settings):
    (intake_env["folder"] / "acme_2026-11.csv").write_bytes(invoice_csv("ACME-1010"))  # "_": no pattern matches
    [row] = collect.collect_folder(settle_s=0)
    assert row.outcome == IntakeOutcome.REJECTED
    text = (tmp_path / "carriers.yaml").read_text().replace('"acme-*.csv"', '"acme[-_]*.csv"')
    text = text.replace("- acme-*.csv", "- acme[-_]*.csv")
    (tmp_path / "carriers.yaml").write_text(text)
    retried = collect.retry(row)
    assert (retried.pk, retried.outcome, retried.attempts) == (row.pk, IntakeOutcome.IMPORTED, 2)
    assert [m.key for m in _reports()] == [f"intake-report-{row.pk}-1", f"intake-report-{row.pk}-2"]
    copy = next((intake_env["state"] / "intake" / "files").iterdir())
    assert oct(copy.stat().st_mode & 0o777) == "0o600"


def test_an_imported_file_cannot_be_retried(intake_env):
    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-1011"))
    [row] = collect.collect_folder(settle_s=0)
    with pytest.raises(ValueError, match="^outcome: "):
        collect.retry(row)


def test_the_worker_job_collects_folder_and_mailbox(mailbox):
    from web.intake.jobs import collect as job

    _deliver(mailbox, email_with(("acme-2026-11.csv", invoice_csv("ACME-2008"), CSV)))
    (Path(collect.settings.LINEWATCH.intake.folder) / "acme-2026-12.csv").write_bytes(invoice_csv("ACME-1012"))
    assert job() == {"folder": 1, "imap": 1, "retried": 0}
    assert _stored_invoices() == ["ACME-1012", "ACME-2008"]


def test_the_intake_job_is_registered_at_intake_interval():
    from web.notify.worker import collect_jobs

    jobs = {j.path: j for j in collect_jobs()}
    assert jobs["web.intake.jobs:collect"].interval_s == 300


def test_intake_report_is_a_message_kind_with_both_languages():
    from web.notify.templates import builtin, check_template

    for language in ("en", "ko"):
        source = builtin(MessageKind.INTAKE_REPORT, language)
        assert source.origin == f"intake_report.{language}.txt"
        check_template(MessageKind.INTAKE_REPORT, subject=source.subject, body=source.body)


def test_the_demo_helpers_deliver_a_demo_invoice_that_the_intake_imports(dovecot_server, intake_env, settings,
                                                                         monkeypatch):
    """web/intake/demo.py: a Colt invoice of config/demo-invoices emailed into a mailbox, read with the demo's
    carriers.yaml; the environment variables give the same settings."""
    from linewatch.settings import load_settings
    from web.intake import demo

    root = Path(__file__).resolve().parents[2]
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"carriers_path": root / "config" / "carriers.yaml"})
    name = f"demo-{uuid.uuid4().hex[:8]}"
    message_id = demo.deliver_invoice_email(dovecot_server, root / "config" / "demo-invoices" / "colt-2026-10.csv",
                                            sender="billing@colt.example", mailbox=name)
    [row] = collect.collect_imap(demo.imap_settings(dovecot_server, mailbox=name))
    assert (row.outcome, row.carrier_name, row.message.message_id) == (IntakeOutcome.QUARANTINED, "Colt", message_id)
    for key, value in demo.imap_env(dovecot_server, mailbox=name).items():
        monkeypatch.setenv(key, value)
    loaded = load_settings(Path(settings.LINEWATCH.config_file or "missing.yaml")).intake.imap
    assert loaded.model_dump(exclude={"timeout_s"}) == demo.imap_settings(dovecot_server, mailbox=name).model_dump(
        exclude={"timeout_s"})
    assert loaded.password.get_secret_value() == dovecot_server.password


def test_a_failure_of_ours_is_an_error_retried_by_the_next_run_until_it_imports(mailbox):
    """The invoice store cannot be opened (a folder where its file should be): the file is an error, kept; the
    worker's next pass, once the store is back, imports it on the same row."""
    blocker = collect.store_path()
    blocker.mkdir(parents=True)
    _deliver(mailbox, email_with(("acme-2026-11.csv", invoice_csv("ACME-2009"), CSV)))
    [row] = collect.collect_imap()
    assert row.outcome == IntakeOutcome.ERROR and "IsADirectoryError" in row.reason
    assert collect.collect_all()["retried"] == 1  # still failing: attempt 2
    blocker.rmdir()
    assert collect.collect_all() == {"folder": 0, "imap": 0, "retried": 1}
    row.refresh_from_db()
    assert (row.outcome, row.attempts) == (IntakeOutcome.IMPORTED, 3) and _stored_invoices() == ["ACME-2009"]
    assert collect.collect_all()["retried"] == 0


def test_the_intake_collect_command_runs_one_pass_and_prints_each_outcome(intake_env, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-1013", bad_amount="x"))
    out = StringIO()
    call_command("intake_collect", "--folder", str(other), "--keep", "--settle-s", "0", stdout=out)
    text = out.getvalue()
    assert "quarantined  acme-2026-11.csv  carrier=Acme Telecom  invoices=ACME-1013  rows=2/1" in text
    assert text.endswith("1 file(s) collected\n") and (other / "acme-2026-11.csv").exists()


def test_files_left_in_place_are_not_collected_again(intake_env):
    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-1014"))
    assert len(collect.collect_folder(settle_s=0, move=False)) == 1
    assert collect.collect_folder(settle_s=0, move=False) == []
    (intake_env["folder"] / "acme-copy.csv").write_bytes(invoice_csv("ACME-1014"))  # a new name: a duplicate
    assert [r.outcome for r in collect.collect_folder(settle_s=0, move=False)] == [IntakeOutcome.DUPLICATE]
    assert IntakeFile.objects.count() == 2 and len(_reports()) == 2


@pytest.mark.parametrize(("filename", "data", "words"), [
    ("telekom-newsletter.pdf", "text", ""),  # a PDF layout's carrier, but no invoice in it: the importer's reason
    ("telekom-scan.pdf", "scan", "scanned PDF (no text layer)"),
], ids=["text-pdf-no-invoice", "scanned-pdf"])
def test_a_pdf_that_is_no_invoice_of_the_pdf_carrier_is_rejected_with_the_importers_reason(
        intake_env, settings, filename, data, words):
    from weasyprint import HTML

    root = Path(__file__).resolve().parents[2]
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"carriers_path": root / "config" / "carriers.yaml"})
    pdf = text_pdf("Our newsletter: new products") if data == "text" else HTML(
        string='<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" width="400">').write_pdf()
    (intake_env["folder"] / filename).write_bytes(pdf)
    [row] = collect.collect_folder(settle_s=0)
    assert (row.outcome, row.carrier_name) == (IntakeOutcome.REJECTED, "Deutsche Telekom")
    assert row.reason and words in row.reason
    assert (intake_env["folder"] / "rejected" / filename).is_file()
