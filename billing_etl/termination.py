"""What terminating a line costs: the earliest penalty-free date, and the early-termination fee before it.

Pure, no I/O: :func:`termination_terms` takes a contract (``contracts.yaml`` or the web's ``as_config``) and two
dates. The rule (docs/billing.md, "Termination terms"):

* **Earliest penalty-free date** — the later of the end of the notice period (``notice_date + notice_days``) and
  the end of the current term (its last day of service). With ``auto_renew`` the current term is the renewal
  period running on the notice date; if the notice period ends after it, the contract has renewed: the end of
  the period holding the notice period's end. Without ``auto_renew`` a term already over leaves the notice
  period only. No term: the notice period only (``notice_days`` of a term that states none, 90).
* **Early** — the requested date (the last day of service) is before that date.
* **Fee** — ``early_termination_pct`` % × the MRC in force on the requested date (after its discounts, as the
  ETL prices the MRC) × the months remaining from the day after the requested date to the end of the binding
  term; whole calendar months count 1 and a partial month its share per the contract's proration convention
  (``actual_days``: days / days in that month; ``thirtieths``: days / 30). The months are rounded to 4 decimals
  and the fee, computed from those months, to the currency's minor unit: the explanation's arithmetic
  reproduces the fee exactly. No term (or a requested date at or after the term's end): no fee; what a short
  notice costs beyond the term is the MRC of the notice period, billed as usual, not a fee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from billing_etl.config import Contract, Term
from billing_etl.model import money
from billing_etl.proration import months_in

ZERO = Decimal(0)
MONTHS_STEP = Decimal("0.0001")
DEFAULT_NOTICE_DAYS: int = Term.model_fields["notice_days"].default
"""The notice period of a contract without a term (that of a term stating none)."""


@dataclass(frozen=True)
class TerminationTerms:
    """What terminating on ``requested_date`` costs under ``contract`` with notice given on ``notice_date``.

    ``term_end``: the last day of the term binding the line (after a renewal the notice came too late to stop,
    the renewed period's); ``notice_deadline``: the last day notice could be given to leave at the end of the
    term running on the notice date; both None without a term."""

    notice_date: dt.date
    requested_date: dt.date
    earliest_free_date: dt.date
    term_end: dt.date | None
    notice_deadline: dt.date | None
    early: bool
    fee: Decimal
    months_remaining: Decimal
    mrc: Decimal
    early_termination_pct: Decimal
    currency: str
    explanation: str


def _amount(value: Decimal, currency: str) -> str:
    return f"{money(value, currency or None):,} {currency}".rstrip()


def termination_terms(
    contract: Contract, *, notice_date: dt.date, requested_date: dt.date
) -> TerminationTerms:
    """The termination terms of ``contract`` (see the module docstring for the rule)."""
    currency = contract.currency or ""
    term = contract.term
    mrc = contract.mrc_on(requested_date)
    notice_days = term.notice_days if term is not None else DEFAULT_NOTICE_DAYS
    notice_end = notice_date + dt.timedelta(days=notice_days)
    binding_end = deadline = None
    if term is None:
        earliest = notice_end
        sentence = (
            f"No minimum term: the earliest termination date is {earliest} (notice on {notice_date} + "
            f"{notice_days} days' notice)."
        )
    else:
        current_end = term.end(on_or_after=notice_date)
        deadline = current_end - dt.timedelta(days=notice_days)
        binding_end = earliest = current_end
        if notice_end <= current_end:
            sentence = (
                f"The term ends on {current_end}; notice on {notice_date} is in time (deadline {deadline}): "
                f"the earliest termination without a fee is {earliest}."
            )
        elif term.auto_renew:
            binding_end = earliest = term.end(on_or_after=notice_end)
            sentence = (
                f"The notice deadline {deadline} for the term ending on {current_end} has passed: with "
                f"{notice_days} days' notice from {notice_date} the contract renews, and the earliest "
                f"termination without a fee is the renewed term's end, {earliest}."
            )
        else:
            earliest = notice_end
            ends = "ended" if current_end < notice_date else "ends"
            sentence = (
                f"The term {ends} on {current_end}; with {notice_days} days' notice from {notice_date} "
                f"(deadline {deadline} passed) the earliest termination is {earliest}."
            )
    sentences = [sentence]
    early = requested_date < earliest
    months = ZERO
    if binding_end is not None and requested_date < binding_end:
        months = months_in(requested_date + dt.timedelta(days=1), binding_end, contract.proration).quantize(
            MONTHS_STEP, rounding="ROUND_HALF_UP"
        )
    pct = term.early_termination_pct if term is not None else ZERO
    fee = money(pct / 100 * mrc * months if early else ZERO, currency or None)
    if early and months:
        sentences.append(
            f"Terminating on {requested_date} is early: {pct} % × MRC {_amount(mrc, currency)} × "
            f"{months} months remaining to {binding_end} ({contract.proration.value}) = fee "
            f"{_amount(fee, currency)}."
        )
    elif early:
        sentences.append(
            f"Terminating on {requested_date} is before it: the MRC is billed to the end of the notice period; "
            "no months of a term remain, so no early-termination fee."
        )
    else:
        sentences.append(f"Terminating on {requested_date} costs no early-termination fee.")
    return TerminationTerms(
        notice_date=notice_date,
        requested_date=requested_date,
        earliest_free_date=earliest,
        term_end=binding_end,
        notice_deadline=deadline,
        early=early,
        fee=fee,
        months_remaining=months,
        mrc=money(mrc, currency or None),
        early_termination_pct=pct,
        currency=currency,
        explanation=" ".join(sentences),
    )
