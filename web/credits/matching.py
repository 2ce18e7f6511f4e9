"""Which open dispute a carrier's credit or adjustment row answers: pure logic on plain dataclasses (no Django).

A credit row is scored against each open dispute of the same carrier and currency (any other carrier or currency
never matches) on four signals, each adding points and a short reason a person reads on ``/credits/``:

=============  ======  ====================================================================================
signal          points  when
=============  ======  ====================================================================================
reference       40      the dispute's reference ``DSP-n`` is in the row's description (not ``DSP-n0``)
circuit         25      the row's circuit id is one of the dispute's circuits (or is named in its description)
amount          25      the credited amount is the claim, within ``tolerance_pct`` of it
                10      less than the claim (a partial credit)
                5       more than the claim (recovered: the claim; the rest is not this dispute's)
period          10      the row's service period overlaps a month of the dispute's findings
=============  ======  ====================================================================================

A row is proposed for the dispute with the best score if that score is at least :data:`MIN_SCORE` (the claim's
amount alone, or the circuit alone, is enough to ask a person; a partial amount in the right month is not). A
credit row goes to at most one dispute; a dispute may receive several rows (one per circuit, or a credit in two
instalments). Equal best scores go to the oldest dispute (lowest id) and the match names the others
(``tied with DSP-5``), so that the result never depends on the order of the inputs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from billing_etl.model import amount_text, money
from linewatch.choices import ChargeType

POINTS_REFERENCE = 40
POINTS_CIRCUIT = 25
POINTS_AMOUNT_EQUAL = 25
POINTS_AMOUNT_PARTIAL = 10
POINTS_AMOUNT_LARGER = 5
POINTS_PERIOD = 10
MIN_SCORE = 25

# The charge types a carrier credits with (an adjustment only when it lowers the bill).
CREDIT_TYPES = (ChargeType.CREDIT, ChargeType.ADJUSTMENT)


@dataclass(frozen=True)
class CreditLine:
    """A credit or adjustment row of an invoice, as the carrier states it (credits are usually negative)."""

    row_id: int
    carrier: str
    currency: str
    charge_type: ChargeType
    amount: Decimal
    circuit_id: str = ""
    description: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None

    @property
    def credited(self) -> Decimal:
        """The amount given back (positive), 0 when the row is no credit (an adjustment that raises the bill)."""
        if self.charge_type is ChargeType.CREDIT:
            return abs(self.amount)
        if self.charge_type is ChargeType.ADJUSTMENT and self.amount < 0:
            return -self.amount
        return Decimal(0)


@dataclass(frozen=True)
class OpenDispute:
    """A dispute sent to (or answered by) the carrier and not yet resolved."""

    dispute_id: int
    reference: str  # DSP-<pk>
    carrier: str
    currency: str
    claimed_amount: Decimal
    circuit_ids: frozenset[str] = frozenset()
    periods: frozenset[str] = frozenset()  # "YYYY-MM" of its findings


@dataclass(frozen=True)
class Match:
    """A credit row proposed as (part of) a dispute's answer."""

    row_id: int
    dispute_id: int
    score: int  # 0-100
    reasons: tuple[str, ...]
    credited: Decimal  # the row's credit (positive)
    recovered_amount: Decimal  # the credit capped at the claim
    covers_claim: bool  # the credit is the whole claim (within the tolerance) or more
    tied_with: tuple[int, ...] = field(default=())  # other disputes with the same score


def _norm(text: str) -> str:
    return text.strip().casefold()


def _party(carrier: str, currency: str) -> tuple[str, str]:
    return _norm(carrier), currency.strip().upper()


def reference_in(reference: str, text: str) -> bool:
    """Whether ``reference`` (``DSP-3``) is written in ``text`` as itself: ``DSP-3``, ``dsp 3``, ``DSP3``, never
    inside ``DSP-33`` or ``XDSP-3``."""
    prefix, _sep, number = reference.partition("-")
    if not prefix or not number:
        return False
    pattern = rf"(?<![0-9A-Za-z]){re.escape(prefix)}[\s\-_#:]?0*{re.escape(number)}(?![0-9])"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def _circuit_in(circuit: str, text: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(circuit)}(?![0-9A-Za-z])", text, flags=re.IGNORECASE) is not None


def _months(start: dt.date, end: dt.date) -> set[str]:
    out, year, month = set(), start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.add(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def within(credited: Decimal, claimed: Decimal, *, tolerance_pct: float) -> bool:
    """Whether ``credited`` is the claim, give or take ``tolerance_pct`` % of it."""
    return abs(credited - claimed) <= claimed * Decimal(str(tolerance_pct)) / 100


def score(credit: CreditLine, dispute: OpenDispute, *, tolerance_pct: float) -> Match | None:
    """The match of ``credit`` and ``dispute`` with its score and reasons; None when they cannot match (another
    carrier or currency, no credit) or score below :data:`MIN_SCORE`."""
    credited = credit.credited
    if credited <= 0 or dispute.claimed_amount <= 0:
        return None
    if _party(credit.carrier, credit.currency) != _party(dispute.carrier, dispute.currency):
        return None
    points, reasons = 0, []
    if reference_in(dispute.reference, credit.description):
        points += POINTS_REFERENCE
        reasons.append(f"reference {dispute.reference}")
    circuits = {_norm(c): c for c in dispute.circuit_ids if c.strip()}
    circuit = circuits.get(_norm(credit.circuit_id)) if credit.circuit_id.strip() else None
    if circuit is None:
        circuit = next((c for key, c in sorted(circuits.items()) if _circuit_in(c, credit.description)), None)
    if circuit is not None:
        points += POINTS_CIRCUIT
        reasons.append(f"circuit {circuit}")
    currency = dispute.currency
    claimed = dispute.claimed_amount
    amounts = f"amount {amount_text(credited, currency)} of {amount_text(claimed, currency)} claimed"
    covers = credited >= claimed or within(credited, claimed, tolerance_pct=tolerance_pct)
    if within(credited, claimed, tolerance_pct=tolerance_pct):
        points += POINTS_AMOUNT_EQUAL
        reasons.append(amounts)
    elif credited < claimed:
        points += POINTS_AMOUNT_PARTIAL
        reasons.append(f"{amounts} (partial)")
    else:
        points += POINTS_AMOUNT_LARGER
        reasons.append(f"{amounts} (more than claimed)")
    if credit.period_start is not None or credit.period_end is not None:
        start = credit.period_start or credit.period_end
        end = credit.period_end or credit.period_start
        assert start is not None and end is not None
        overlap = sorted(_months(min(start, end), max(start, end)) & dispute.periods)
        if overlap:
            points += POINTS_PERIOD
            reasons.append(f"period {', '.join(overlap)}")
    if points < MIN_SCORE:
        return None
    return Match(row_id=credit.row_id, dispute_id=dispute.dispute_id, score=min(points, 100), reasons=tuple(reasons),
                 credited=money(credited, currency), recovered_amount=money(min(credited, claimed), currency),
                 covers_claim=covers)


def propose(credits: Iterable[CreditLine], disputes: Iterable[OpenDispute], *,
            tolerance_pct: float = 1.0) -> list[Match]:
    """Each credit row to its best dispute (at most one), ordered by row id; rows matching none are left out.
    Equal best scores: the lowest dispute id wins, the others are named in ``tied_with`` and the reasons."""
    by_party: dict[tuple[str, str], list[OpenDispute]] = {}  # only a dispute of the row's carrier and currency
    for dispute in sorted(disputes, key=lambda d: d.dispute_id):
        by_party.setdefault(_party(dispute.carrier, dispute.currency), []).append(dispute)
    references = {d.dispute_id: d.reference for group in by_party.values() for d in group}
    out = []
    for credit in sorted(credits, key=lambda c: c.row_id):
        candidates = by_party.get(_party(credit.carrier, credit.currency), [])
        scored = [m for m in (score(credit, d, tolerance_pct=tolerance_pct) for d in candidates) if m is not None]
        if not scored:
            continue
        best = max(m.score for m in scored)
        winners = [m for m in scored if m.score == best]  # in dispute id order
        match, others = winners[0], tuple(m.dispute_id for m in winners[1:])
        if others:
            named = ", ".join(references[i] for i in others)
            match = Match(**{**match.__dict__, "tied_with": others,
                             "reasons": (*match.reasons, f"tied with {named}")})
        out.append(match)
    return out
