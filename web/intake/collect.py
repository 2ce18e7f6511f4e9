"""Invoices collected by themselves: the drop folder, the IMAP mailbox and a file uploaded by hand all go one way.

Each file: its sha256 (bytes imported before → ``duplicate``, nothing imported) → its carrier
(:mod:`web.intake.routing`: the carriers.yaml ``files`` patterns, then the sender against the billing contacts'
domains) → ``billing_etl.importer.import_file`` with that carrier's layout → the ETL's invoice store
(``InvoiceStore.add_invoices``) → one :class:`~web.intake.models.IntakeFile` row and the outcome report queued for
``intake.report_to`` (INTAKE_REPORT, one outbox key per file and attempt) in one transaction. After a run with
anything imported, ``web.invoices.sync.sync_store()`` mirrors the store into the application.

Exactly once, across restarts: a message by its Message-ID row, a file by its sha256 row. A crash after the store
took the invoices but before the row was written imports nothing twice: the store is idempotent by each invoice's
content hash (the same invoice again is ``unchanged``), so the next run records the file as imported and the
store keeps one copy.

A copy of every collected file is kept privately (``STATE_DIR/intake/files/<sha256>``, 0600 in 0700) for a retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing_etl.config import Carrier as CarrierLayout
from billing_etl.config import CarriersFile
from billing_etl.importer import QuarantinedRow, import_file
from billing_etl.pdf_invoice import PAGE_ROWS
from billing_etl.run import STORE_NAME
from billing_etl.store import ImportOutcome, InvoiceStore
from linewatch.choices import ContactRole, IntakeOutcome, IntakeSourceKind
from linewatch.errors import ConfigError, InvoiceFileError
from linewatch.fileperms import ensure_private_dir, write_private
from linewatch.settings import ImapSettings
from linewatch.yamlconf import load_model
from web.intake.folder import ready_files
from web.intake.imap import ImapError, open_mailbox
from web.intake.mail import parse_message, safe_filename
from web.intake.models import IMPORTED_OUTCOMES, IntakeFile, IntakeMessage
from web.intake.routing import Routed, domain_of, route

log = logging.getLogger(__name__)

IMPORTED_DIR = "imported"  # <folder>/imported/: imported, quarantined, duplicate
REJECTED_DIR = "rejected"  # <folder>/rejected/: not an invoice of a known carrier, unreadable
MAX_FILE_BYTES = 50 * 2**20  # a larger "invoice" is refused unread
MAX_REASON_CHARS = 2000
MAX_AUTO_ATTEMPTS = 5  # a mailbox or upload file failing on our side is retried by the worker this many times



def _place(q: QuarantinedRow) -> dict[str, int | None]:
    """Where a quarantined row is, for people: its row, and the page of a PDF (whose grid numbers rows
    page × 1000 + row, billing_etl.pdf_invoice)."""
    if not q.where:
        return {"page": None, "row": q.row}
    page, row = divmod(q.row, PAGE_ROWS)
    return {"page": page, "row": row}

def files_dir() -> Path:
    return Path(settings.STATE_DIR) / "intake" / "files"


def store_path() -> Path:
    return Path(settings.STATE_DIR) / STORE_NAME


def carriers_config() -> CarriersFile:
    lw = settings.LINEWATCH
    carriers, _located = load_model(lw.resolve(lw.carriers_path), CarriersFile)
    return carriers


def billing_domains() -> dict[str, set[str]]:
    """Carrier name → the domains of its billing contacts' email addresses."""
    from web.inventory.models import Contact

    domains: dict[str, set[str]] = {}
    for name, email in Contact.objects.filter(role=ContactRole.BILLING).exclude(email="").values_list(
            "carrier__name", "email"):
        if domain_of(email):
            domains.setdefault(name, set()).add(domain_of(email))
    return domains


@dataclass
class Outcome:
    """What one file came to, before it is recorded."""

    outcome: IntakeOutcome
    reason: str = ""
    carrier_name: str = ""
    invoices: list[str] = field(default_factory=list)
    rows_imported: int = 0
    rows_quarantined: int = 0
    quarantine: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Collected:
    """A file to process: its name, bytes and where it came from."""

    filename: str
    data: bytes
    source: IntakeSourceKind
    sender: str = ""


class Intake:
    """One run: carriers.yaml and the billing contacts read once, files evaluated, rows recorded."""

    def __init__(self) -> None:
        try:
            self.carriers: list[CarrierLayout] = list(carriers_config().carriers)
            self.config_problem = ""
        except (ConfigError, FileNotFoundError) as exc:
            self.carriers, self.config_problem = [], f"carriers.yaml cannot be read: {exc}"
        self.domains = billing_domains()
        self.seen: dict[str, str] = {}  # sha256 → file name imported earlier in this run
        self.store_changed = False

    def evaluate(self, item: Collected) -> tuple[str, Outcome]:
        """(sha256, outcome) of one file; imports it into the ETL store when it is an invoice."""
        sha = hashlib.sha256(item.data).hexdigest()
        earlier = (IntakeFile.objects.filter(sha256=sha, outcome__in=IMPORTED_OUTCOMES).order_by("collected_at")
                   .first())  # fmt: skip
        if earlier is not None:
            when = timezone.localtime(earlier.collected_at).strftime("%Y-%m-%d %H:%M")
            return sha, Outcome(IntakeOutcome.DUPLICATE, carrier_name=earlier.carrier_name, invoices=earlier.invoices,
                                reason=f"the same file (sha256 {sha[:12]}…) was imported on {when} as "
                                       f"{earlier.filename!r}: nothing imported")  # fmt: skip
        if sha in self.seen:
            return sha, Outcome(IntakeOutcome.DUPLICATE, reason=f"the same file as {self.seen[sha]!r} of this run")
        if self.config_problem:
            return sha, Outcome(IntakeOutcome.ERROR, reason=self.config_problem[:MAX_REASON_CHARS])
        if len(item.data) > MAX_FILE_BYTES:
            return sha, Outcome(IntakeOutcome.REJECTED, reason=f"{len(item.data):,} bytes: larger than the "
                                                               f"{MAX_FILE_BYTES // 2**20} MiB an invoice may take")
        path = keep_copy(sha, item.filename, item.data)  # also of a rejected file: a retry reads it
        routed = route(item.filename, carriers=self.carriers, sender=item.sender, billing_domains=self.domains)
        if not isinstance(routed, Routed):
            return sha, Outcome(IntakeOutcome.REJECTED, reason=routed.reason[:MAX_REASON_CHARS])
        try:
            outcome = self._import(path, item.filename, routed.carrier)
        except InvoiceFileError as exc:
            return sha, Outcome(IntakeOutcome.REJECTED, carrier_name=routed.carrier.name,
                                reason=exc.reason[:MAX_REASON_CHARS])
        except Exception as exc:  # ours (the store, a bug): kept for a retry, the other files go on
            log.exception("intake: %s could not be imported", item.filename)
            return sha, Outcome(IntakeOutcome.ERROR, carrier_name=routed.carrier.name,
                                reason=f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS])
        if outcome.outcome in IMPORTED_OUTCOMES:
            self.seen[sha] = item.filename
        return sha, outcome

    def _import(self, path: Path, filename: str, carrier: CarrierLayout) -> Outcome:
        result = import_file(path, carrier, display_name=filename)
        with InvoiceStore(store_path()) as store:
            outcomes = store.add_invoices(result.invoices, complete=not result.quarantined)
        counts = Counter(outcomes.values())
        conflicts = [number for (_c, number), o in outcomes.items() if o is ImportOutcome.CONFLICT]
        notes = []
        if conflicts:
            notes.append(f"invoice(s) {', '.join(conflicts)} were imported before with different content: recorded "
                         "as a conflict, which the audit reports")
        if outcomes and counts[ImportOutcome.UNCHANGED] == len(outcomes):
            notes.append("every invoice was in the invoice store already, unchanged")
        quarantine = [{**_place(q), "field": q.column, "reason": q.reason} for q in result.quarantined]
        if conflicts and len(conflicts) == len(outcomes):
            kind = IntakeOutcome.REJECTED
        else:
            kind = IntakeOutcome.QUARANTINED if result.quarantined else IntakeOutcome.IMPORTED
        if not result.invoices:
            notes.append("no row could be imported")
        self.store_changed |= bool(counts[ImportOutcome.NEW] or counts[ImportOutcome.COMPLETED])
        return Outcome(kind, reason="; ".join(notes)[:MAX_REASON_CHARS], carrier_name=carrier.name,
                       invoices=sorted({inv.invoice_number for inv in result.invoices}),
                       rows_imported=result.good_rows, rows_quarantined=result.bad_rows, quarantine=quarantine)

    def record(self, item: Collected, sha: str, outcome: Outcome, *, message: IntakeMessage | None = None,
               user: Any = None, now: dt.datetime) -> IntakeFile:
        """The file's row and its report (call inside a transaction)."""
        from web.intake.report import report

        row = IntakeFile.objects.create(
            sha256=sha, filename=item.filename, size_bytes=len(item.data), source=item.source, message=message,
            uploaded_by=user if getattr(user, "pk", None) else None, collected_at=now, **_fields(outcome))
        report(row, now=now)
        return row

    def finish(self) -> None:
        """Mirror the store into the application when this run added to it."""
        if self.store_changed:
            from web.invoices.sync import sync_store

            sync = sync_store(store_path())
            log.info("intake: %d new invoice(s) mirrored (periods %s)", len(sync.new),
                     ", ".join(sorted(sync.periods)) or "-")


def _fields(outcome: Outcome) -> dict[str, Any]:
    """The row's fields from an outcome (the inventory's carrier of the carriers.yaml name, when it has one)."""
    from web.inventory.models import Carrier

    carrier = Carrier.objects.filter(name=outcome.carrier_name).first() if outcome.carrier_name else None
    return {"carrier": carrier, "carrier_name": outcome.carrier_name, "outcome": outcome.outcome, "reason": outcome.reason,
            "invoices": outcome.invoices, "rows_imported": outcome.rows_imported,
            "rows_quarantined": outcome.rows_quarantined, "quarantine": outcome.quarantine}


def keep_copy(sha: str, filename: str, data: bytes) -> Path:
    """The private copy of a collected file (written once per content)."""
    suffix = PurePosixPath(filename).suffix.lower()[:16]
    path = files_dir() / f"{sha}{suffix}"
    if not path.exists():
        ensure_private_dir(path.parent)
        write_private(path, data, fsync=False)
    return path


# -- the three ways in ---------------------------------------------------------------------------------------------


def collect_folder(folder: Path | str | None = None, *, settle_s: float = 1.0, move: bool = True) -> list[IntakeFile]:
    """Import the complete files of ``folder`` (default ``intake.folder``): a file is taken when its size and mtime
    did not change over ``settle_s`` seconds (or it was written by rename: names starting with ``.`` or ending in
    ``.part``/``.tmp`` are never taken). Processed files move to ``imported/`` or ``rejected/`` (``move=False``:
    they stay, and a later run skips a file already recorded under the same name and content). An error (ours) leaves the file
    where it is, to be tried on the next run. Callable without the worker (the demo)."""
    base = Path(folder) if folder is not None else settings.LINEWATCH.intake.folder
    if base is None:
        return []
    base = settings.LINEWATCH.resolve(Path(base))
    if not base.is_dir():
        log.warning("intake folder %s does not exist: nothing collected", base)
        return []
    intake = Intake()
    rows = []
    for path in ready_files(base, settle_s=settle_s):
        try:
            data = path.read_bytes()
        except OSError as exc:
            log.warning("intake: %s cannot be read: %s", path, exc)
            continue
        item = Collected(safe_filename(path.name, fallback="file"), data, IntakeSourceKind.FOLDER)
        if not move and _seen_in_place(item):
            continue  # left in place by an earlier run: not a new arrival (nor a duplicate to report again)
        sha, outcome = intake.evaluate(item)
        with transaction.atomic():
            row = _record_or_update_error(intake, item, sha, outcome)
        rows.append(row)
        if move and outcome.outcome is not IntakeOutcome.ERROR:
            _move(path, base / (REJECTED_DIR if outcome.outcome is IntakeOutcome.REJECTED else IMPORTED_DIR), sha)
    intake.finish()
    return rows


def _seen_in_place(item: Collected) -> bool:
    sha = hashlib.sha256(item.data).hexdigest()
    return IntakeFile.objects.filter(sha256=sha, filename=item.filename, source=item.source).exclude(
        outcome=IntakeOutcome.ERROR).exists()


def _record_or_update_error(intake: Intake, item: Collected, sha: str, outcome: Outcome) -> IntakeFile:
    """A folder file that failed on our side stays in the folder: its next try updates the same row."""
    now = timezone.now()
    earlier = IntakeFile.objects.filter(sha256=sha, source=item.source, outcome=IntakeOutcome.ERROR,
                                        filename=item.filename).first()  # fmt: skip
    if earlier is None:
        return intake.record(item, sha, outcome, now=now)
    return _update(earlier, outcome, now=now)


def _update(row: IntakeFile, outcome: Outcome, *, now: dt.datetime) -> IntakeFile:
    from web.intake.report import report

    for name, value in _fields(outcome).items():
        setattr(row, name, value)
    row.attempts += 1
    row.collected_at = now
    row.save()
    report(row, now=now)
    return row


def _move(path: Path, target_dir: Path, sha: str) -> None:
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.stem}-{sha[:8]}{path.suffix}"
    try:
        os.replace(path, target)
    except OSError:
        shutil.move(str(path), str(target))


def collect_imap(imap: ImapSettings | None = None) -> list[IntakeFile]:
    """Import the attachments of every unseen message of the mailbox (default ``intake.imap``); each message once
    (its Message-ID row: seen again → duplicate, nothing imported), then marked processed (``\\Seen``, or moved to
    ``processed_mailbox``). Raises :class:`~web.intake.imap.ImapError` when the mailbox cannot be read."""
    imap = imap or settings.LINEWATCH.intake.imap
    if imap is None:
        return []
    intake = Intake()
    rows: list[IntakeFile] = []
    with open_mailbox(imap) as mailbox:
        for uid in mailbox.unseen_uids():
            raw = mailbox.fetch(uid)
            try:
                rows += _collect_message(intake, raw, mailbox=imap.mailbox)
            except Exception:  # one broken message never blocks the others; unrecorded, it is read again next run
                log.exception("intake: message UID %d of %s could not be collected", uid, imap.mailbox)
                continue
            mailbox.mark_processed(uid)
    intake.finish()
    return rows


def _collect_message(intake: Intake, raw: bytes, *, mailbox: str) -> list[IntakeFile]:
    parsed = parse_message(raw)
    known = IntakeMessage.objects.filter(message_id=parsed.message_id).first()
    if known is not None:
        IntakeMessage.objects.filter(pk=known.pk).update(seen_again=known.seen_again + 1)
        log.info("intake: message %s seen again (first collected %s): nothing imported", parsed.message_id,
                 known.collected_at.isoformat())
        return []
    items = [Collected(a.filename, a.data, IntakeSourceKind.IMAP, sender=parsed.sender) for a in parsed.attachments]
    evaluated = [(item, *intake.evaluate(item)) for item in items]
    now = timezone.now()
    with transaction.atomic():
        message = IntakeMessage.objects.create(
            message_id=parsed.message_id, mailbox=mailbox, sender=parsed.sender, subject=parsed.subject,
            received_at=parsed.date, collected_at=now, summary=_summary(evaluated))
        return [intake.record(item, sha, outcome, message=message, now=now) for item, sha, outcome in evaluated]


def _summary(evaluated: Sequence[tuple[Collected, str, Outcome]]) -> str:
    if not evaluated:
        return "no attachment"
    return "; ".join(f"{item.filename}: {outcome.outcome.value}" for item, _sha, outcome in evaluated)[:2000]


def collect_upload(filename: str, data: bytes, *, user: Any) -> IntakeFile:
    """A file uploaded by hand on /intake/: the same way as the folder's and the mailbox's."""
    intake = Intake()
    item = Collected(safe_filename(filename, fallback="upload"), data, IntakeSourceKind.UPLOAD)
    sha, outcome = intake.evaluate(item)
    with transaction.atomic():
        row = intake.record(item, sha, outcome, user=user, now=timezone.now())
    intake.finish()
    return row


def retry(row: IntakeFile) -> IntakeFile:
    """Try a rejected or failed file again from its private copy (the configuration may have changed); the row is
    updated and reported again. ValueError when it cannot be retried."""
    if not row.retryable:
        raise ValueError(f"outcome: a file {row.outcome} cannot be retried (only errors and rejections)")
    copies = sorted(files_dir().glob(f"{row.sha256}*")) if files_dir().is_dir() else []
    if not copies:
        raise ValueError("file: no copy of this file is kept (it was larger than an invoice may be); collect it again")
    intake = Intake()
    sender = row.message.sender if row.message_id else ""
    item = Collected(row.filename, copies[0].read_bytes(), IntakeSourceKind(row.source), sender=sender)
    _sha, outcome = intake.evaluate(item)
    with transaction.atomic():
        updated = _update(row, outcome, now=timezone.now())
    intake.finish()
    return updated


def retry_errors(*, max_attempts: int = MAX_AUTO_ATTEMPTS) -> list[IntakeFile]:
    """Try again every mailbox or upload file whose import failed on our side (a folder file is tried again by the
    folder itself), up to ``max_attempts`` attempts each."""
    rows = []
    for row in IntakeFile.objects.filter(outcome=IntakeOutcome.ERROR, attempts__lt=max_attempts).exclude(
            source=IntakeSourceKind.FOLDER).select_related("message"):
        try:
            rows.append(retry(row))
        except ValueError as exc:
            log.warning("intake: %s not retried: %s", row.filename, exc)
    return rows


def collect_all() -> dict[str, int]:
    """The worker's pass: the folder, then the mailbox, then the failed files; one failing never stops the next."""
    done: dict[str, int] = {"folder": 0, "imap": 0, "retried": 0}
    try:
        done["folder"] = len(collect_folder())
    except Exception:
        log.exception("intake: the drop folder could not be collected")
    try:
        done["imap"] = len(collect_imap())
    except ImapError as exc:
        log.error("intake: %s", exc)
    except Exception:
        log.exception("intake: the mailbox could not be collected")
    try:
        done["retried"] = len(retry_errors())
    except Exception:
        log.exception("intake: failed files could not be retried")
    return done


def outcomes_of(rows: Iterable[IntakeFile]) -> Counter[str]:
    return Counter(row.outcome for row in rows)
