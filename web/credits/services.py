"""The only ways a credit match changes: proposed by linewatch (:func:`propose_matches`), confirmed
(:func:`confirm`: the dispute resolved with the recovered amount), rejected (:func:`reject`), or a credit row linked
to a dispute by hand (:func:`link`: a confirmed match). Each is atomic and checks the actor's permission with the
one check of pages and API (:mod:`web.accounts.permissions`); ``user=None`` is linewatch itself (the worker).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_etl.model import amount_text, money
from linewatch.choices import ChargeType, DisputeOutcome, DisputeState
from web.accounts.permissions import Action, is_permitted
from web.credits import matching
from web.credits.models import CONFIRMED, PROPOSED, REJECTED, CreditMatch
from web.findings.models import Dispute, Finding
from web.invoices.models import InvoiceRow

log = logging.getLogger(__name__)
SYSTEM_NAME = "linewatch"
OPEN_DISPUTE_STATES = (DisputeState.SENT.value, DisputeState.ANSWERED.value)
CREDIT_TYPES = tuple(t.value for t in matching.CREDIT_TYPES)
# A row is taken while one of its matches is proposed or confirmed; a rejected pair is never proposed again.
TAKEN = (PROPOSED, CONFIRMED)


class CreditError(Exception):
    """A decision refused for the match's or the dispute's state (HTTP 409)."""


class NotPermitted(CreditError):
    """The actor may not decide on credit matches (HTTP 403)."""


# -- reading -----------------------------------------------------------------------------------------------------


def credit_rows() -> QuerySet[InvoiceRow]:
    """Every row that gives money back: a credit (any sign: carriers write it either way), a negative adjustment."""
    return InvoiceRow.objects.filter(
        Q(charge_type=ChargeType.CREDIT.value) & ~Q(amount=0)
        | Q(charge_type=ChargeType.ADJUSTMENT.value, amount__lt=0)).select_related("invoice__carrier", "line")


def unmatched_rows() -> QuerySet[InvoiceRow]:
    """The credit rows with no proposed or confirmed match (the "unmatched credits" of ``/credits/``)."""
    return credit_rows().exclude(credit_matches__state__in=TAKEN).order_by("-invoice__invoice_date", "invoice", "idx")


def open_disputes() -> QuerySet[Dispute]:
    """Disputes sent to the carrier (answered or not) and not resolved: those a credit may answer."""
    return Dispute.objects.filter(state__in=OPEN_DISPUTE_STATES).select_related("carrier").prefetch_related(
        Prefetch("findings", queryset=Finding.objects.only("pk", "dispute_id", "circuit_id", "period")))


def credit_line(row: InvoiceRow) -> matching.CreditLine:
    return matching.CreditLine(
        row_id=row.pk, carrier=str(row.invoice.carrier_id), currency=row.currency,
        charge_type=ChargeType(row.charge_type), amount=row.amount, circuit_id=row.circuit_id,
        description=row.description, period_start=row.period_start, period_end=row.period_end)


def dispute_terms(dispute: Dispute) -> matching.OpenDispute:
    findings = list(dispute.findings.all())
    return matching.OpenDispute(
        dispute_id=dispute.pk, reference=dispute.reference, carrier=str(dispute.carrier_id),
        currency=dispute.currency, claimed_amount=dispute.claimed_amount,
        circuit_ids=frozenset(f.circuit_id for f in findings if f.circuit_id),
        periods=frozenset({f.period for f in findings if f.period} | ({dispute.period} if dispute.period else set())))


def credited(row: InvoiceRow) -> Decimal:
    """The amount ``row`` gives back (positive)."""
    return money(credit_line(row).credited, row.currency)


def tolerance_pct() -> float:
    return float(settings.LINEWATCH.finance.credit_match_tolerance_pct)


# -- who ---------------------------------------------------------------------------------------------------------


def may(user: Any, action: Action) -> bool:
    """Whether ``user`` may ``action`` credit matches (None: linewatch, always)."""
    return user is None or is_permitted(user, CreditMatch, action)


def _require(user: Any, *actions: Action) -> None:
    if not all(may(user, a) for a in actions):
        raise NotPermitted(_("deciding on credits needs the role finance"))


def _actor_name(user: Any) -> str:
    return user.get_username() if user is not None else SYSTEM_NAME


# -- proposing ---------------------------------------------------------------------------------------------------


def propose_matches(*, now: dt.datetime | None = None) -> list[CreditMatch]:
    """Withdraw the proposals whose dispute was closed meanwhile, then match every unmatched credit row to the open
    disputes of its carrier and currency (never a pair rejected before); returns the new proposals."""
    now = now or timezone.now()
    withdraw_stale(now=now)
    disputes = [dispute_terms(d) for d in open_disputes()]
    if not disputes:
        return []
    rejected: dict[int, set[int]] = {}
    for row_id, dispute_id in CreditMatch.objects.filter(state=REJECTED).values_list("credit_row", "dispute"):
        rejected.setdefault(row_id, set()).add(dispute_id)
    rows = {row.pk: row for row in unmatched_rows()}
    created = []
    for row in rows.values():
        candidates = [d for d in disputes if d.dispute_id not in rejected.get(row.pk, set())]
        for match in matching.propose([credit_line(row)], candidates, tolerance_pct=tolerance_pct()):
            with transaction.atomic():
                proposal, new = CreditMatch.objects.get_or_create(
                    credit_row=row, dispute_id=match.dispute_id,
                    defaults={"score": match.score, "reasons": list(match.reasons),
                              "recovered_amount": match.recovered_amount, "currency": row.currency})
            if new:
                created.append(proposal)
                log.info("credit row %s (%s) proposed for dispute %s: score %s, %s", row.pk, row.invoice,
                         match.dispute_id, match.score, "; ".join(match.reasons))
    return created


def withdraw_stale(*, now: dt.datetime | None = None) -> int:
    """Proposals whose dispute is no longer open (resolved by hand, or by another credit) are rejected by
    linewatch, their rows free for the other disputes."""
    stale = CreditMatch.objects.filter(state=PROPOSED).exclude(dispute__state__in=OPEN_DISPUTE_STATES)
    count = 0
    for match in stale.select_related("dispute"):
        _decide_reject(match, None, note=_("%(dispute)s was closed without this credit") % {
            "dispute": match.dispute.reference}, now=now)
        count += 1
    return count


# -- deciding ----------------------------------------------------------------------------------------------------


def _locked(match: CreditMatch) -> CreditMatch:
    return CreditMatch.objects.select_for_update(of=("self",)).select_related(
        "credit_row__invoice__carrier", "dispute__carrier").get(pk=match.pk)


def _recovered(match: CreditMatch, recovered_amount: Decimal | None) -> Decimal:
    """What the dispute recovers: the credit capped at the claim, unless the user says otherwise (more than zero,
    at most the credit)."""
    row, dispute = match.credit_row, match.dispute
    given = credited(row)
    if recovered_amount is None:
        return money(min(given, dispute.claimed_amount), dispute.currency)
    amount = money(Decimal(recovered_amount), dispute.currency)
    if amount <= 0:
        raise ValidationError({"recovered_amount": [_("give an amount above zero")]})
    if amount > given:
        raise ValidationError({"recovered_amount": [_("%(amount)s is more than the credit row's %(credit)s") % {
            "amount": amount_text(amount, dispute.currency), "credit": amount_text(given, row.currency)}]})
    return amount


def confirm(match: CreditMatch, user: Any, *, recovered_amount: Decimal | None = None,
            now: dt.datetime | None = None) -> CreditMatch:
    """Confirm that ``match``'s row answers its dispute: the dispute resolved (credited in full when the recovered
    amount reaches the claim, else in part) with the recovered amount and the row; the other proposals of the row
    and of the dispute withdrawn. CreditError when the match or the dispute is no longer open."""
    from web.findings import services as findings

    _require(user, "change")
    now = now or timezone.now()
    with transaction.atomic():
        match = _locked(match)
        if match.state != PROPOSED:
            raise CreditError(_("the match is %(state)s already") % {"state": match.get_state_display()})
        # Locked too: a second confirmation for the same dispute waits, then finds it resolved.
        dispute = Dispute.objects.select_for_update(of=("self",)).select_related("carrier").get(pk=match.dispute_id)
        match.dispute = dispute
        if dispute.state not in OPEN_DISPUTE_STATES:
            raise CreditError(_("%(dispute)s is %(state)s: only a sent or answered dispute takes a credit") % {
                "dispute": dispute.reference, "state": dispute.get_state_display()})
        recovered = _recovered(match, recovered_amount)
        outcome = (DisputeOutcome.CREDITED_IN_FULL if recovered >= dispute.claimed_amount
                   else DisputeOutcome.CREDITED_IN_PART)
        match.confirm()
        match.decided_by, match.decided_by_name, match.decided_at = user, _actor_name(user), now
        match.recovered_amount, match.currency = recovered, dispute.currency
        match.save()
        row = match.credit_row
        note = _("credit %(invoice)s row %(row)s: %(reasons)s") % {
            "invoice": row.invoice.number, "row": row.idx, "reasons": "; ".join(match.reasons)}
        try:
            findings.resolve_dispute(dispute, user, outcome=outcome, recovered_amount=recovered, note=note,
                                     credit_row=row)
        except findings.NotPermitted as exc:
            raise NotPermitted(str(exc)) from None
        except findings.FindingError as exc:
            raise CreditError(str(exc)) from None
        others = CreditMatch.objects.filter(state=PROPOSED).filter(
            Q(credit_row=row) | Q(dispute=dispute)).exclude(pk=match.pk)
        for other in others.select_related("dispute"):
            _decide_reject(other, None, note=_("%(row)s confirmed for %(dispute)s") % {
                "row": row, "dispute": dispute.reference}, now=now)
    log.info("credit row %s confirmed for %s: %s %s recovered (%s) by %s", row.pk, dispute.reference, recovered,
             dispute.currency, outcome.value, _actor_name(user))
    return match


def _decide_reject(match: CreditMatch, user: Any, *, note: str, now: dt.datetime | None) -> CreditMatch:
    match.reject()
    match.decided_by, match.decided_by_name = user, _actor_name(user)
    match.decided_at, match.note = now or timezone.now(), note
    match.save()
    return match


def reject(match: CreditMatch, user: Any, *, note: str = "", now: dt.datetime | None = None) -> CreditMatch:
    """Not this dispute's credit: the pair is never proposed again, the row free for the other disputes."""
    _require(user, "change")
    with transaction.atomic():
        match = _locked(match)
        if match.state != PROPOSED:
            raise CreditError(_("the match is %(state)s already") % {"state": match.get_state_display()})
        return _decide_reject(match, user, note=note.strip(), now=now)


def link(row: InvoiceRow, dispute: Dispute, user: Any, *, recovered_amount: Decimal | None = None,
         now: dt.datetime | None = None) -> CreditMatch:
    """Finance links a credit row to a dispute by hand (a row matching nothing, or not the proposed dispute): a
    confirmed match, the dispute resolved as :func:`confirm` does. Errors name the field (``credit_row``,
    ``dispute``)."""
    _require(user, "add", "change")
    errors: dict[str, list[str]] = {}
    if not credit_rows().filter(pk=row.pk).exists():
        errors["credit_row"] = [_("%(row)s gives nothing back (not a credit, nor a negative adjustment)") % {
            "row": row}]
    elif CreditMatch.objects.filter(credit_row=row, state=CONFIRMED).exists():
        errors["credit_row"] = [_("%(row)s is confirmed for a dispute already") % {"row": row}]
    if dispute.state not in OPEN_DISPUTE_STATES:
        errors["dispute"] = [_("%(dispute)s is %(state)s: only a sent or answered dispute takes a credit") % {
            "dispute": dispute.reference, "state": dispute.get_state_display()}]
    elif row.invoice.carrier_id != dispute.carrier_id or row.currency != dispute.currency:
        errors["dispute"] = [_("%(dispute)s is with another carrier or in another currency") % {
            "dispute": dispute.reference}]
    if errors:
        raise ValidationError(errors)
    scored = matching.score(credit_line(row), dispute_terms(dispute), tolerance_pct=tolerance_pct())
    reasons = ["linked by hand", *(scored.reasons if scored else ())]
    with transaction.atomic():
        match, _new = CreditMatch.objects.get_or_create(credit_row=row, dispute=dispute, defaults={
            "score": scored.score if scored else 0, "reasons": reasons, "currency": row.currency, "manual": True})
        if match.state == REJECTED:
            match.reconsider()
            match.manual, match.reasons = True, reasons
            match.save()
        return confirm(match, user, recovered_amount=recovered_amount, now=now)

