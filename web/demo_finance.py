"""The finance part of ``make run``: the demo's invoices walked through the whole finance workflow, through the
apps' public services only (``python -m web.demo finance``, run by ``web.demo:finance_stage`` once the billing
stage has written its invoices).

1. the carriers get a billing contact in the demo mailbox (``billing@<carrier>.example``);
2. **intake** (web/intake): the billing stage's invoice files (``run/invoices``) come in as carriers send them:
   Deutsche Telekom's PDFs by email (a private dovecot IMAP mailbox for the run, web/intake/demo.py; collected by
   ``collect_imap``), the others dropped into the demo's drop folder ``run/intake`` (``collect_folder``); both
   import into the ETL store and mirror it (``sync_store``). Without dovecot the PDFs go to the folder too;
3. **audit** (web/invoices ``audit_periods``): the periods of the received invoices audited, findings recorded;
4. **disputes** (web/findings), one finding each, one in each state: ``sent`` (mailed with its evidence pack to
   the demo mailbox; a later credit note waits for it), ``answered`` (with the carrier's reference), resolved
   *credited in full*, *credited in part* and *rejected*, and a ``draft``;
5. **the credit note** (billing_etl/demo_credits.py): the carrier's answer to the sent dispute, dated today,
   quoting its ``DSP-n``, dropped into the folder and collected; web/credits proposes it for the dispute;
6. **payments** (web/invoices): every invoice already due is approved, scheduled and paid on time but one, left
   approved and **overdue**; of the ones not yet due, the invoice of the sent dispute is approved with the
   disputed amount withheld and scheduled, another approved;
7. **budgets** (web/finance): a yearly budget for the two departments with the largest costs (one under, one
   over its actual pace).

Idempotent: every step looks first (files by sha256, disputes, approvals, budgets), so a second ``make run`` in
the same run directory adds nothing twice. A step that fails is reported and the later ones go on where they can.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DROP_FOLDER = "intake"  # run/intake: the demo's intake drop folder
MAILED = "telekom-*.pdf"  # Deutsche Telekom emails its invoices (the carrier of config/carriers.yaml's PDF layout)
MAILED_CARRIER = "Deutsche Telekom"
INVOICE_FOLDER = "invoices"  # run/invoices: where the billing stage writes the demo invoices
DISPUTE_STATES = ("sent", "answered", "credited_in_full", "credited_in_part", "rejected", "draft")
CARRIER_REFERENCE = "BILL-CASE-20417"
BUDGET_PACE = (Decimal("1.15"), Decimal("0.85"))  # the two departments' budgets against 12 × the month's actual


def say(msg: str) -> None:
    print(f"[demo] finance: {msg}", flush=True)


@dataclass
class FinanceDemo:
    """What one run did (each list empty when the step found its work done before)."""

    collected: list[str] = field(default_factory=list)  # "<file>: <outcome>"
    audited: list[str] = field(default_factory=list)  # periods
    disputes: dict[str, str] = field(default_factory=dict)  # state → DSP-n
    credit_note: str = ""
    proposed_matches: int = 0
    invoices: dict[str, list[str]] = field(default_factory=dict)  # paid/scheduled/approved/overdue → numbers
    budgets: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "<step>: <error>"


def _user(name: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=name).first()
    if user is None:
        raise LookupError(f"demo user {name!r} is missing (web.demo prepare creates it)")
    return user


def _step(report: FinanceDemo, name: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as exc:  # the demo goes on: later steps may still have something to show
        log.exception("finance demo: %s failed", name)
        report.failed.append(f"{name}: {type(exc).__name__}: {exc}")


# -- 1. contacts ----------------------------------------------------------------------------------------------


def billing_address(carrier: Any) -> str:
    return "billing@" + "".join(c for c in carrier.name.lower() if c.isalnum()) + ".example"


def ensure_billing_contacts() -> int:
    """A billing contact in the demo mailbox for each carrier without one (disputes are mailed there)."""
    from linewatch.choices import ContactRole
    from web.inventory.models import Carrier, Contact

    made = 0
    for carrier in Carrier.objects.exclude(contacts__role=ContactRole.BILLING):
        Contact.objects.create(carrier=carrier, role=ContactRole.BILLING, name=f"{carrier.name} billing",
                               email=billing_address(carrier), notes="demo: delivered to the demo mailbox")
        made += 1
    return made


# -- 2. intake --------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def drop_new_files(files: Iterable[Path], folder: Path) -> list[Path]:
    """Copy into the drop folder the files the intake has not seen (by sha256): a second run drops nothing."""
    from web.intake.models import IntakeFile

    folder.mkdir(parents=True, exist_ok=True)
    seen = set(IntakeFile.objects.values_list("sha256", flat=True))
    dropped = []
    for path in sorted(files):
        if path.is_file() and _sha256(path) not in seen:
            shutil.copyfile(path, folder / path.name)
            dropped.append(folder / path.name)
    return dropped


def mail_new_invoices(files: Iterable[Path], report: FinanceDemo) -> list[Path]:
    """Deliver the files the intake has not seen as the carrier's emails to a private mailbox and collect it
    (``collect_imap``); returns the files that could not be mailed (no dovecot here): the caller drops them."""
    from linewatch.errors import LinewatchError
    from web.intake.collect import collect_imap
    from web.intake.demo import deliver_invoice_email, imap_settings, start_demo_mailbox
    from web.intake.models import IntakeFile

    seen = set(IntakeFile.objects.values_list("sha256", flat=True))
    new = [p for p in sorted(files) if p.is_file() and _sha256(p) not in seen]
    if not new:
        return []
    try:
        server = start_demo_mailbox()
    except (LinewatchError, OSError) as exc:  # no dovecot here: the files still come in, by the folder
        log.warning("finance demo: no demo mailbox (%s): %d invoice(s) dropped into the folder", exc, len(new))
        return new
    try:
        sender = "rechnung@" + "".join(c for c in MAILED_CARRIER.lower() if c.isalnum()) + ".example"
        for path in new:
            deliver_invoice_email(server, path, sender=sender, subject=f"Ihre Rechnung {path.stem}")
        for row in collect_imap(imap_settings(server)):
            report.collected.append(f"{row.filename} (email): {row.outcome}")
    finally:
        server.cleanup()
    return []


def intake(run_dir: Path, folder: Path, report: FinanceDemo) -> None:
    """The billing stage's invoices in, the mailed ones by email, the others by the drop folder."""
    invoices = [p for p in (run_dir / INVOICE_FOLDER).glob("*") if p.is_file()]
    mailed = [p for p in invoices if p.match(MAILED)]
    unmailed = mail_new_invoices(mailed, report)
    drop_new_files([p for p in invoices if p not in mailed] + unmailed, folder)
    collect(folder, report)


def collect(folder: Path, report: FinanceDemo) -> None:
    from web.intake.collect import collect_folder

    for row in collect_folder(folder, settle_s=0):
        report.collected.append(f"{row.filename}: {row.outcome}")


# -- 3. audit ---------------------------------------------------------------------------------------------------


def audit_received(report: FinanceDemo, *, client: Any = None) -> None:
    """Mirror the store, then audit every period holding a received invoice."""
    from linewatch.choices import InvoiceState
    from web.invoices.audit import audit_periods
    from web.invoices.models import Invoice
    from web.invoices.sync import sync_store

    sync_store()
    periods = set(Invoice.objects.filter(state=InvoiceState.RECEIVED).values_list("period", flat=True))
    for result in audit_periods(periods, client=client):
        if not result.ok:
            report.failed.append(f"audit {result.period}: {result.error}")
        elif result.period not in report.audited:
            report.audited.append(result.period)


# -- 4. disputes ------------------------------------------------------------------------------------------------


def dispute_candidates() -> list[Any]:
    """New findings a dispute can claim, those the credit note can answer first (a circuit, a demo carrier that
    sends credit notes), then the larger claims."""
    from billing_etl.demo_credits import CARRIERS
    from linewatch.choices import FindingState
    from web.findings.models import Finding

    rows = list(Finding.objects.filter(state=FindingState.NEW, present=True, carrier__isnull=False,
                                       recoverable__gt=0, invoice__isnull=False).exclude(currency="")
                .select_related("carrier", "invoice").order_by("-period", "pk"))
    return sorted(rows, key=lambda f: (not (f.circuit_id and f.carrier.name in CARRIERS), -f.recoverable))


def open_demo_disputes(user: Any, report: FinanceDemo, *, now: dt.datetime) -> None:
    """One dispute per state of :data:`DISPUTE_STATES`, as many as there are findings (none when any exists)."""
    from linewatch.choices import DisputeOutcome
    from web.findings import services
    from web.findings.models import Dispute

    if Dispute.objects.exists():
        return
    for state, finding in zip(DISPUTE_STATES, dispute_candidates(), strict=False):
        dispute = services.open_dispute([finding], user, now=now)
        report.disputes[state] = dispute.reference
        if state == "draft":
            continue
        dispute = services.send_dispute(dispute, user, now=now)
        if state in ("answered", "credited_in_part"):
            dispute = services.record_answer(
                dispute, user, reference=CARRIER_REFERENCE if state == "answered" else f"{CARRIER_REFERENCE}-P",
                answer="Under review by our billing team; we will come back to you with a credit note.", now=now)
        claim = dispute.claimed_amount
        if state == "credited_in_full":
            services.resolve_dispute(dispute, user, outcome=DisputeOutcome.CREDITED_IN_FULL, recovered_amount=claim,
                                     note="credited in full on the next invoice", now=now)
        elif state == "credited_in_part":
            services.resolve_dispute(dispute, user, outcome=DisputeOutcome.CREDITED_IN_PART,
                                     recovered_amount=(claim / 2), note="half credited as a goodwill gesture",
                                     now=now)
        elif state == "rejected":
            services.resolve_dispute(dispute, user, outcome=DisputeOutcome.REJECTED, recovered_amount=Decimal(0),
                                     note="the carrier showed the charge is in the contract's annex", now=now)


# -- 5. the credit note -----------------------------------------------------------------------------------------


def credit_note_for(dispute: Any, *, issued: dt.date) -> Any:
    """The carrier's credit note answering ``dispute`` in full (its first finding's circuit and period)."""
    from billing_etl.demo_credits import CreditNote
    from billing_etl.model import Period

    finding = dispute.findings.order_by("pk").first()
    return CreditNote(carrier=dispute.carrier.name, reference=dispute.reference, circuit_id=finding.circuit_id,
                      amount=dispute.claimed_amount, currency=dispute.currency,
                      service_period=Period.parse(dispute.period), issued=issued)


def send_credit_note(folder: Path, report: FinanceDemo, *, today: dt.date) -> None:
    """The sent dispute's credit note into the drop folder, collected; web/credits proposes the match."""
    from billing_etl.demo_credits import CARRIERS, write_credit_note
    from linewatch.choices import CreditMatchState, DisputeState
    from web.credits.services import propose_matches
    from web.findings.models import Dispute
    from web.invoices.models import InvoiceRow

    dispute = Dispute.objects.filter(state=DisputeState.SENT, carrier__name__in=CARRIERS).order_by("pk").first()
    if dispute is None or InvoiceRow.objects.filter(description__contains=dispute.reference).exists():
        return  # nothing to answer, or its credit note came in before (a later run: not a second one)
    staging = folder.parent / f".{folder.name}-staging"  # written outside, then dropped whole (never half a file)
    path = write_credit_note(staging, credit_note_for(dispute, issued=today))
    if drop_new_files([path], folder):
        report.credit_note = f"{path.name} ({dispute.reference})"
        collect(folder, report)
        audit_received(report)  # the credit note's period again, as the worker's sync_and_audit would
    propose_matches()  # the audit proposes them too: count what waits for this dispute, whoever proposed it
    report.proposed_matches = dispute.credit_matches.filter(state=CreditMatchState.PROPOSED).count()


# -- 6. payments ------------------------------------------------------------------------------------------------


def walk_payments(user: Any, report: FinanceDemo, *, today: dt.date) -> None:
    """Due invoices paid on time but one (overdue); of the others, the disputed one approved with the disputed
    amount withheld and scheduled, one more approved (none when any invoice was approved before)."""
    from linewatch.choices import FindingState, InvoiceState
    from web.invoices import services
    from web.invoices.models import Invoice

    if Invoice.objects.exclude(state__in=(InvoiceState.RECEIVED, InvoiceState.AUDITED)).exists():
        return
    audited = list(Invoice.objects.filter(state=InvoiceState.AUDITED).select_related("carrier")
                   .order_by("due_date", "carrier__name", "number"))
    due = [inv for inv in audited if inv.due_date < today]
    later = [inv for inv in audited if inv.due_date >= today]
    if due:
        overdue = due.pop()  # the latest due: approved, never paid
        services.approve(overdue, user, withhold_disputed=False)
        report.invoices.setdefault("overdue", []).append(overdue.number)
    for inv in due:
        paid_on = inv.due_date - dt.timedelta(days=2)
        inv = services.approve(inv, user, withhold_disputed=False)
        inv = services.schedule(inv, user, payment_date=paid_on)
        services.mark_paid(inv, user, paid_on=paid_on, reference=f"PAY-{paid_on:%Y%m%d}-{inv.pk:04d}")
        report.invoices.setdefault("paid", []).append(inv.number)
    disputed = [inv for inv in later if inv.findings.filter(state=FindingState.DISPUTED).exists()]
    if disputed:
        inv = services.approve(disputed[0], user, withhold_disputed=True,
                               note="the disputed amount is withheld until the carrier's credit")
        services.schedule(inv, user, payment_date=max(today, inv.due_date - dt.timedelta(days=3)))
        report.invoices.setdefault("scheduled", []).append(inv.number)
    others = [inv for inv in later if inv not in disputed]
    if others:
        services.approve(others[0], user, withhold_disputed=False)
        report.invoices.setdefault("approved", []).append(others[0].number)


# -- 7. budgets -------------------------------------------------------------------------------------------------


def seed_budgets(report: FinanceDemo, *, today: dt.date) -> None:
    """A yearly budget for the two departments with the largest actual costs of the latest audited month."""
    from django.db.models import Sum

    from billing_etl.model import money
    from linewatch.choices import BudgetScope
    from web.finance.models import Budget, CostActual

    if Budget.objects.exists() or not CostActual.objects.exists():
        return
    latest = CostActual.objects.order_by("-period").values_list("period", flat=True).first()
    totals = (CostActual.objects.filter(period=latest, department__isnull=False)
              .values("department", "department__name", "currency").annotate(total=Sum("amount"))
              .order_by("-total"))
    for pace, row in zip(BUDGET_PACE, totals, strict=False):
        budget = Budget(scope=BudgetScope.DEPARTMENT, department_id=row["department"], year=today.year,
                        amount=money(row["total"] * 12 * pace, row["currency"]), currency=row["currency"],
                        note="demo budget")
        budget.full_clean()
        budget.save()
        report.budgets.append(f"{row['department__name']} {budget.amount} {budget.currency} ({today.year})")


# -- the whole chain --------------------------------------------------------------------------------------------


def run(run_dir: Path, *, today: dt.date | None = None, now: dt.datetime | None = None,
        client: Any = None) -> FinanceDemo:
    """The chain on the demo run directory (Django configured): see the module's docstring."""
    from django.utils import timezone

    from linewatch.choices import Role
    from web.audit.context import change_context

    now = now or timezone.now()
    today = today or timezone.localdate(now)
    report = FinanceDemo()
    folder = run_dir / DROP_FOLDER
    user = _user(Role.FINANCE.value)
    with change_context(user=user):
        _step(report, "billing contacts", ensure_billing_contacts)
        _step(report, "intake", lambda: intake(run_dir, folder, report))
        _step(report, "audit", lambda: audit_received(report, client=client))
        _step(report, "disputes", lambda: open_demo_disputes(user, report, now=now))
        _step(report, "credit note", lambda: send_credit_note(folder, report, today=today))
        _step(report, "payments", lambda: walk_payments(user, report, today=today))
        _step(report, "budgets", lambda: seed_budgets(report, today=today))
    return report


def summary(report: FinanceDemo) -> list[str]:
    """The lines the demo prints."""
    lines = []
    if report.collected:
        lines.append(f"intake (drop folder run/intake, demo mailbox): {', '.join(report.collected)}")
    if report.audited:
        lines.append(f"audited {', '.join(report.audited)}")
    if report.disputes:
        lines.append("disputes: " + ", ".join(f"{ref} {state}" for state, ref in report.disputes.items()))
    if report.credit_note:
        lines.append(f"credit note {report.credit_note} collected; {report.proposed_matches} credit match(es) "
                     "proposed at /credits/")
    for state, numbers in report.invoices.items():
        lines.append(f"invoices {state}: {', '.join(numbers)}")
    if report.budgets:
        lines.append(f"budgets: {'; '.join(report.budgets)}")
    lines.extend(f"FAILED {failure}" for failure in report.failed)
    return lines or ["nothing new (already walked through in this run directory)"]
