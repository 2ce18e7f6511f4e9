"""The only ways findings and disputes change (Zulip's ``do_*`` actions): record an audit, accept, reopen, open,
send, answer and resolve a dispute. Each is atomic, checks the actor's role (:mod:`web.findings.workflow`) and
writes the dispute's timeline (:class:`DisputeEvent`); a finding's own history is the change log. Pages, the API,
the audit job (web/invoices), the credit matching (web/credits) and the worker call these; ``user=None`` is
linewatch itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from billing_etl import audit as etl
from billing_etl.finding_ids import finding_key
from billing_etl.model import money
from linewatch.choices import (
    ContactRole,
    DisputeEventKind,
    DisputeOutcome,
    DisputeState,
    FindingState,
    Language,
    MessageKind,
)
from web.findings.models import ZERO, Dispute, DisputeEvent, Finding, SuppressionRule
from web.findings.workflow import BY_NAME, Machine, Move, moves_from
from web.inventory.models import Carrier, Line
from web.orders.services import NotAvailable as OrderNotAvailable
from web.orders.services import NotPermitted, user_roles

SYSTEM_NAME = "linewatch"
NOTICE_KEY = "dispute-notice-{pk}"
REMINDER_KEY = "dispute-reminder-{pk}-{round}"


class NotAvailable(OrderNotAvailable):
    """The move is not possible from the object's state (HTTP 409); the orders' refusals, so the pages and the API
    answer them alike (``NotPermitted``: 403 naming the roles that own the move)."""

    def __init__(self, obj: Finding | Dispute, move: str):
        self.move = move
        Exception.__init__(self, _("%(move)s is not possible for %(object)s in state %(state)s") % {
            "move": move, "object": obj.display_id if isinstance(obj, Finding) else obj.reference,
            "state": obj.state})


# -- who ---------------------------------------------------------------------------------------------------------


def may_move(move: Move, user: Any) -> bool:
    return user is None or bool(user_roles(user) & move.roles)


def available_moves(obj: Finding | Dispute, user: Any) -> list[Move]:
    """The moves ``user`` may make on ``obj`` by hand now (the page's buttons, the API's ``transitions``)."""
    machine = Machine.FINDING if isinstance(obj, Finding) else Machine.DISPUTE
    return [m for m in moves_from(machine, obj.state) if may_move(m, user)]


def _check(obj: Finding | Dispute, name: str, user: Any) -> Move:
    move = BY_NAME[name]
    if not can_proceed(getattr(obj, name)):
        raise NotAvailable(obj, name)
    if not may_move(move, user):
        raise NotPermitted(name, move.roles)
    return move


def _actor_name(user: Any) -> str:
    return user.get_username() if user is not None else SYSTEM_NAME


def _event(dispute: Dispute, kind: DisputeEventKind, *, user: Any, move: Move | None = None, source: str = "",
           target: str = "", text: str = "", data: Mapping[str, Any] | None = None,
           now: dt.datetime | None = None) -> DisputeEvent:
    return DisputeEvent.objects.create(
        dispute=dispute, kind=kind.value, actor=user, actor_name=_actor_name(user), text=text,
        data=dict(data or {}), transition=move.name if move else "", source=source,
        target=target or (move.target if move else ""), time=now or timezone.now())


# -- the audit ---------------------------------------------------------------------------------------------------


@dataclass
class RecordReport:
    """What one :func:`record_audit` did."""

    period: str
    new: list[Finding] = field(default_factory=list)  # first seen, state new
    suppressed: list[Finding] = field(default_factory=list)  # first seen, accepted by a suppression rule
    refreshed: list[Finding] = field(default_factory=list)  # seen before: amounts and reason updated
    absent: list[Finding] = field(default_factory=list)  # of the period, not in this audit (present=False)


_REFRESHED = ("period", "rule", "carrier", "carrier_name", "invoice", "invoice_number", "line", "line_name",
              "circuit_id", "charge_key", "amount_at_stake", "recoverable", "currency", "reason", "department",
              "source")


_LINKS = ("carrier", "invoice", "line")


def _differs(row: Finding, values: Mapping[str, Any]) -> bool:
    """Whether ``values`` change ``row`` (links compared by id, without loading them)."""
    for name, value in values.items():
        if name in _LINKS:
            if getattr(row, f"{name}_id") != (value.pk if value is not None else None):
                return True
        elif getattr(row, name) != value:
            return True
    return False


def _links(period: str, findings: Sequence[etl.Finding]) -> tuple[dict[str, Any], dict[str, Any], dict[Any, Any]]:
    carriers = {c.name: c for c in Carrier.objects.filter(name__in={f.carrier for f in findings if f.carrier})}
    lines = {x.name: x for x in Line.objects.filter(name__in={f.line for f in findings if f.line})}
    from web.invoices.models import Invoice

    numbers = {f.invoice_number for f in findings if f.invoice_number}
    invoices = {(i.carrier_id, i.number): i for i in Invoice.objects.filter(number__in=numbers)}
    return carriers, lines, invoices


def record_audit(period: str, findings: Sequence[etl.Finding], *, today: dt.date | None = None,
                 now: dt.datetime | None = None) -> RecordReport:
    """Upsert the audit's ``findings`` of ``period`` by their stable key (billing_etl.finding_ids).

    A finding first seen is ``new``, or ``accepted`` when a suppression rule active ``today`` matches it (its
    reason then the rule's); one seen before keeps its state (whoever triaged it), its amounts, reason and links
    refreshed, ``present`` again; the period's findings this audit did not report get ``present=False``. Links the
    carrier, line and invoice of the web database by name.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    report = RecordReport(period=str(period))
    carriers, lines, invoices = _links(str(period), findings)
    rules = list(SuppressionRule.objects.filter(expires_on__gte=today).order_by("pk"))
    keyed = {finding_key(f, period): f for f in findings}  # equal keys: one finding (the audit's sort decides)
    with transaction.atomic():
        known = {f.key: f for f in Finding.objects.select_for_update().filter(key__in=keyed)}
        for key, f in keyed.items():
            carrier = carriers.get(f.carrier)
            values = {
                "period": str(period), "rule": f.rule.value, "carrier": carrier, "carrier_name": f.carrier,
                "invoice": invoices.get((carrier.pk, f.invoice_number)) if carrier else None,
                "invoice_number": f.invoice_number, "line": lines.get(f.line), "line_name": f.line,
                "circuit_id": f.circuit_id, "charge_key": f.charge_key,
                "amount_at_stake": f.amount_at_stake, "recoverable": f.recoverable, "currency": f.currency,
                "reason": f.reason, "department": f.department, "source": f.source,
            }
            row = known.get(key)
            if row is not None:
                if not row.present or _differs(row, values):  # a change worth its change-log row
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.present, row.last_seen_at = True, now
                    row.save(update_fields=[*_REFRESHED, "present", "last_seen_at", "last_updated"])
                report.refreshed.append(row)
                continue
            row = Finding(key=key, first_seen_at=now, last_seen_at=now, **values)
            rule = next((r for r in rules if r.matches(row)), None)
            if rule is not None:
                row = Finding(key=key, first_seen_at=now, last_seen_at=now, state=FindingState.ACCEPTED.value,
                              state_reason=rule.reason, suppressed_by=rule, **values)
            row.save()
            (report.suppressed if rule else report.new).append(row)
        # Seen again unchanged: only the moment, in one statement (not a change of the finding to log).
        Finding.objects.filter(key__in=keyed).exclude(last_seen_at=now).update(last_seen_at=now)
        for row in Finding.objects.filter(period=str(period), present=True).exclude(key__in=keyed):
            row.present = False
            row.save(update_fields=["present", "last_updated"])
            report.absent.append(row)
    return report


# -- triage ------------------------------------------------------------------------------------------------------


def _finding_move(finding: Finding, name: str, *, user: Any, apply: Callable[[Finding], None] | None = None) -> Finding:
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding.pk)
        _check(finding, name, user)
        if apply is not None:
            apply(finding)
        getattr(finding, name)()
        finding.save()
    return finding


def accept(finding: Finding, user: Any, *, reason: str) -> Finding:
    """The charge is right: new → accepted with ``reason`` (required: ValidationError naming ``reason``)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("say why the charge is right")]})

    def apply(f: Finding) -> None:
        f.state_reason, f.suppressed_by = reason.strip(), None

    return _finding_move(finding, "accept", user=user, apply=apply)


def reopen(finding: Finding, user: Any) -> Finding:
    """accepted → new (the reason, or the suppression rule, no longer holds for it)."""

    def apply(f: Finding) -> None:
        f.state_reason, f.suppressed_by = "", None

    return _finding_move(finding, "reopen", user=user, apply=apply)


# -- disputes ----------------------------------------------------------------------------------------------------


def _language(carrier: Carrier, language: str | None) -> str:
    from web.faults.carrier_mail import carrier_language

    if language:
        if language not in set(Language):
            raise ValidationError({"language": [_("one of %(codes)s") % {"codes": ", ".join(Language)}]})
        return language
    return carrier_language(MessageKind.DISPUTE_NOTICE.value, carrier)


def open_dispute(findings: Iterable[Finding], user: Any, *, claimed_amount: Decimal | None = None,
                 language: str | None = None, now: dt.datetime | None = None) -> Dispute:
    """A draft dispute of ``findings`` (one carrier, one currency, each ``new``: they become ``disputed``).

    The claim defaults to the sum of their recoverable amounts; the language to the carrier's own dispute_notice
    template's, else the application's. ValidationError naming ``findings`` / ``claimed_amount`` / ``language``,
    NotAvailable / NotPermitted otherwise; nothing changed then."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(Finding.objects.select_for_update(of=("self",)).filter(pk__in=[f.pk for f in findings])
                    .select_related("carrier").order_by("period", "pk"))
        if not rows:
            raise ValidationError({"findings": [_("choose at least one finding")]})
        carriers = {f.carrier_id for f in rows}
        if None in carriers:
            raise ValidationError({"findings": [_("%(id)s names no carrier of the inventory") % {
                "id": next(f.display_id for f in rows if f.carrier_id is None)}]})
        if len(carriers) > 1:
            raise ValidationError({"findings": [_("a dispute is with one carrier: these findings are of several")]})
        currencies = {f.currency for f in rows}
        if len(currencies) > 1 or "" in currencies:
            raise ValidationError({"findings": [_("a dispute claims one currency: these findings are in %(c)s") % {
                "c": ", ".join(sorted(c or "?" for c in currencies))}]})
        for f in rows:
            _check(f, "add_to_dispute", user)
        currency = rows[0].currency
        claim = sum((f.recoverable for f in rows), ZERO) if claimed_amount is None else claimed_amount
        claim = money(Decimal(claim), currency)
        if claim <= 0:
            raise ValidationError({"claimed_amount": [_("claim an amount above zero")]})
        carrier = rows[0].carrier
        dispute = Dispute(carrier=carrier, claimed_amount=claim, currency=currency,
                          language=_language(carrier, language), opened_by=user, opened_by_name=_actor_name(user),
                          opened_at=now, period=rows[0].period)
        dispute.save()
        for f in rows:
            f.dispute = dispute
            f.add_to_dispute()
            f.save()
        _event(dispute, DisputeEventKind.TRANSITION, user=user, now=now, target=DisputeState.DRAFT, data={
            "findings": [f.display_id for f in rows], "claimed_amount": str(claim), "currency": currency})
    return dispute


def _dispute_move(dispute: Dispute, name: str, *, user: Any, apply: Callable[[Dispute], dict[str, Any]] | None = None,
                  text: str = "", now: dt.datetime | None = None) -> Dispute:
    """Lock, check the state and the role, ``apply(dispute) -> event data`` (may raise), move, save, event."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().select_related("carrier").get(pk=dispute.pk)
        move = _check(dispute, name, user)
        source = dispute.state
        data = apply(dispute) if apply is not None else {}
        getattr(dispute, name)()
        dispute.save()
        _event(dispute, DisputeEventKind.TRANSITION, user=user, move=move, source=source, text=text, data=data,
               now=now)
    return dispute


def billing_contacts(carrier: Carrier) -> list[Any]:
    return list(carrier.contacts.filter(role=ContactRole.BILLING).exclude(email="").order_by("name", "pk"))


def _recipients(dispute: Dispute) -> list[Any]:
    from web.notify.outbox import Recipient

    contacts = billing_contacts(dispute.carrier)
    if not contacts:
        raise ValidationError({"carrier": [_("carrier %(carrier)s has no billing contact with an email address") % {
            "carrier": dispute.carrier}]})
    return [Recipient.email(c.email, name=c.name, language=dispute.language) for c in contacts]


def send_dispute(dispute: Dispute, user: Any, *, now: dt.datetime | None = None) -> Dispute:
    """draft → sent: the evidence pack built (web.findings.evidence.build_pack, in the dispute's language) and
    stored, the dispute_notice queued to the carrier's billing contacts with the PDF and the XLSX attached (outbox
    key ``dispute-notice-<pk>``: once). ValidationError naming ``carrier`` when nobody can be mailed."""
    from web.findings import evidence, messages
    from web.notify.outbox import enqueue

    now = now or timezone.now()
    _check(dispute, "send", user)  # before the (slow) pack: a refused move builds nothing
    _recipients(dispute)
    pack = evidence.build_pack(dispute, language=dispute.language)

    def apply(d: Dispute) -> dict[str, Any]:
        to = _recipients(d)
        evidence.store_pack(d, pack)  # names the files on the dispute
        d.sent_at = now
        rendered = messages.notice(d)
        key = NOTICE_KEY.format(pk=d.pk)
        enqueue(key, to=to, subject=rendered.subject, text=rendered.text, html=rendered.html, language=d.language,
                about=d, attachments=pack.attachments())
        return {"outbox_key": key, "recipients": [str(r) for r in to], "subject": rendered.subject,
                "attachments": [pack.pdf_name, pack.xlsx_name]}

    return _dispute_move(dispute, "send", user=user, apply=apply, now=now)


def record_answer(dispute: Dispute, user: Any, *, reference: str, answer: str,
                  now: dt.datetime | None = None) -> Dispute:
    """sent → answered: the carrier's reference (optional) and answer (required: ValidationError naming
    ``answer``)."""
    now = now or timezone.now()
    if not (answer or "").strip():
        raise ValidationError({"answer": [_("write down what the carrier answered")]})

    def apply(d: Dispute) -> dict[str, Any]:
        d.carrier_reference, d.carrier_answer, d.answered_at = (reference or "").strip(), answer.strip(), now
        return {"carrier_reference": d.carrier_reference}

    return _dispute_move(dispute, "answer", user=user, apply=apply, text=answer.strip(), now=now)


def _check_outcome(dispute: Dispute, outcome: DisputeOutcome, recovered: Decimal) -> None:
    if recovered < 0:
        raise ValidationError({"recovered_amount": [_("a recovered amount is zero or more")]})
    if outcome is DisputeOutcome.REJECTED and recovered != 0:
        raise ValidationError({"recovered_amount": [_("a rejected dispute recovers nothing")]})
    if outcome is not DisputeOutcome.REJECTED and recovered == 0:
        raise ValidationError({"recovered_amount": [_("a credit recovers an amount above zero")]})
    if outcome is DisputeOutcome.CREDITED_IN_PART and recovered >= dispute.claimed_amount:
        raise ValidationError({"outcome": [_("the credit covers the claim: credited in full")]})


def resolve_dispute(dispute: Dispute, user: Any, *, outcome: DisputeOutcome, recovered_amount: Decimal,
                    note: str = "", credit_row: Any = None, now: dt.datetime | None = None) -> Dispute:
    """sent/answered → resolved with ``outcome`` and ``recovered_amount`` (rounded to the currency's minor unit);
    its findings → resolved. ``credit_row``: the invoice row of the carrier's credit (web/credits' confirmed
    match), named in the timeline."""
    now = now or timezone.now()
    outcome = DisputeOutcome(outcome)
    recovered = money(Decimal(recovered_amount), dispute.currency)
    _check_outcome(dispute, outcome, recovered)

    def apply(d: Dispute) -> dict[str, Any]:
        d.outcome, d.recovered_amount, d.resolved_at = outcome.value, recovered, now
        for f in Finding.objects.select_for_update().filter(dispute=d, state=FindingState.DISPUTED):
            f.resolve()
            f.save()
        data: dict[str, Any] = {"outcome": outcome.value, "recovered_amount": str(recovered)}
        if credit_row is not None:
            data["credit_row"] = credit_row.pk
            data["credit_invoice"] = getattr(getattr(credit_row, "invoice", None), "number", "")
        return data

    return _dispute_move(dispute, "resolve_dispute", user=user, apply=apply, text=note, now=now)


def add_note(dispute: Dispute, user: Any, *, text: str) -> DisputeEvent:
    """A remark of finance on the timeline (any state)."""
    if not (text or "").strip():
        raise ValidationError({"text": [_("write the note")]})
    if not may_move(BY_NAME["answer"], user):
        raise NotPermitted("note", BY_NAME["answer"].roles)
    return _event(dispute, DisputeEventKind.NOTE, user=user, text=text.strip())


# -- reminders ---------------------------------------------------------------------------------------------------


def reminder_round(dispute: Dispute, *, now: dt.datetime, every_days: int) -> int:
    """How many full ``every_days`` have passed since the dispute was sent (0: no reminder due yet)."""
    if dispute.sent_at is None:
        return 0
    return max(int((now - dispute.sent_at).total_seconds() // (every_days * 86400)), 0)


def remind(dispute: Dispute, *, now: dt.datetime, every_days: int) -> bool:
    """Queue this round's dispute_reminder to the carrier's billing contacts; False when no round is due or this
    round's was queued before (outbox key ``dispute-reminder-<pk>-<round>``: exactly once, across restarts)."""
    from web.findings import messages
    from web.notify.outbox import enqueue

    n = reminder_round(dispute, now=now, every_days=every_days)
    if n < 1 or dispute.state not in (DisputeState.SENT, DisputeState.ANSWERED):
        return False
    contacts = billing_contacts(dispute.carrier)
    if not contacts:
        return False
    from web.notify.outbox import Recipient

    to = [Recipient.email(c.email, name=c.name, language=dispute.language) for c in contacts]
    key = REMINDER_KEY.format(pk=dispute.pk, round=n)
    with transaction.atomic():
        rendered = messages.reminder(dispute, round_=n, now=now)
        if not enqueue(key, to=to, subject=rendered.subject, text=rendered.text, html=rendered.html,
                       language=dispute.language, about=dispute):
            return False
        _event(dispute, DisputeEventKind.REMINDER, user=None, now=now,
               data={"outbox_key": key, "round": n, "recipients": [str(r) for r in to]})
    return True
