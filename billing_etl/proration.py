"""Proration: what share of a month a stretch of days carries, and a month cut where a contract's terms change.

Pure functions, no I/O. The MRC of a partial month is prorated per the contract's convention
(:class:`~linewatch.choices.ProrationConvention`): ``actual_days`` — days / days in that month; ``thirtieths`` —
days / 30, a full month being 30/30 whatever its length. A month whose days fall under two sets of terms (a
``changes:`` entry effective inside it) is billed piece by piece, each piece at its own terms; under
``thirtieths`` a month fully in service still adds up to 30/30: the last piece gets what the earlier pieces
leave (15 days of a 31-day month at the old terms are 15/30, the 16 days after the change 15/30).

Usage charges (burstable 95th percentile, volume quota) are computed per *usage segment*: the days between two
changes of the terms a usage charge depends on (commit, price per Mbit/s, included GB, price per GB; for a
contract without ``commit_bps``, the inventory capacity, which has versions of its own). See docs/billing.md,
"Contract changes inside a month".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_etl.config import Contract
from billing_etl.model import Period
from billing_etl.usage import day_start_s
from linewatch.choices import BillingModel, ProrationConvention
from linewatch.inventory import Line

ZERO = Decimal(0)
ONE = Decimal(1)
_DAY = dt.timedelta(days=1)


def _days(first: dt.date, last: dt.date) -> int:
    return (last - first).days + 1


def month_pieces(first: dt.date, last: dt.date) -> list[tuple[Period, dt.date, dt.date]]:
    """``first..last`` (inclusive) cut at month boundaries: ``(month, first, last)`` per month touched."""
    out = []
    day = first
    while day <= last:
        month = Period.containing(day)
        end = min(last, month.last_day)
        out.append((month, day, end))
        day = end + _DAY
    return out


def month_fractions(
    days: Sequence[int], days_in_month: int, convention: ProrationConvention
) -> list[Decimal]:
    """The share of one month each consecutive piece of ``days`` carries (pieces of the same month, in order).

    Pieces covering the whole month add up to exactly 1; otherwise each is prorated per ``convention``, the
    total capped at 1 (30/30) under ``thirtieths``."""
    whole = sum(days) == days_in_month
    if convention is ProrationConvention.ACTUAL_DAYS:
        out = [Decimal(d) / days_in_month for d in days]
        if whole:
            out[-1] = ONE - sum(out[:-1], ZERO)  # exactly 1, not 0.999…9 of the divisions
        return out
    out, used = [], 0
    for d in days:
        counted = min(d, 30 - used)
        out.append(Decimal(counted) / 30)
        used += counted
    if whole:
        out[-1] = ONE - sum(out[:-1], ZERO)
    return out


def months_in(first: dt.date, last: dt.date, convention: ProrationConvention) -> Decimal:
    """How many months ``first..last`` (inclusive) spans: whole calendar months count 1, a partial month its
    fraction per ``convention`` (0 for an empty range)."""
    return sum(
        (
            month_fractions([_days(a, b)], month.days, convention)[0]
            for month, a, b in month_pieces(first, last)
        ),
        ZERO,
    )


def prorated_mrc(contract: Contract, first: dt.date, last: dt.date) -> Decimal:
    """The recurring charge (unrounded) for the service days ``first..last``: per month touched, each stretch
    under the same terms at its MRC after discounts (``Contract.mrc_on`` its first day) times its share of the
    month (:func:`month_fractions`)."""
    total = ZERO
    for month, a, b in month_pieces(first, last):
        segments = contract.segments(a, b)
        fractions = month_fractions([_days(s, e) for s, e, _ in segments], month.days, contract.proration)
        total += sum(
            (contract.mrc_on(s) * f for (s, _e, _t), f in zip(segments, fractions, strict=True)), ZERO
        )
    return total


@dataclass(frozen=True)
class UsageSegment:
    """Days of a month under the same usage terms: ``terms`` (the contract as it stands on ``first``), the
    commit in force and the segment's share of the month's usage charge (its days / the line's days in service
    that month: the shares of a month add up to 1)."""

    first: dt.date
    last: dt.date
    terms: Contract
    commit_bps: int
    share: Decimal

    @property
    def key(self) -> tuple[str, str]:
        """How a measured segment is found again (:class:`billing_etl.usage.SegmentUsage`)."""
        return (self.first.isoformat(), self.last.isoformat())


def commit_on(contract: Contract, line: Line, day: dt.date) -> int:
    """The committed rate on ``day``: the contract's ``commit_bps`` in force, else the line's capacity then."""
    terms = contract.terms_on(day)
    return terms.commit_bps or line.capacity_at(day_start_s(day))


def _capacity_cuts(line: Line, first: dt.date, last: dt.date) -> list[dt.date]:
    """Days inside ``first..last`` (after ``first``) from which a new capacity is in force (a change during a
    day takes effect from the next whole day: billing is per day)."""
    cuts = []
    for change in line.capacity_changes:
        day = change.effective.astimezone(dt.UTC).date()
        if change.effective.astimezone(dt.UTC) != dt.datetime.combine(day, dt.time(), dt.UTC):
            day += _DAY
        if first < day <= last:
            cuts.append(day)
    return cuts


def usage_segments(contract: Contract, line: Line, first: dt.date, last: dt.date) -> list[UsageSegment]:
    """``first..last`` (the line's service days of one month) cut where the usage terms change; adjacent days
    under equal usage terms stay one segment (an MRC-only change does not split the 95th percentile, nor does a
    commit change split a volume quota, which does not depend on it)."""
    # Every change of the contract or of the capacity is a candidate; merging drops those that change nothing
    # the usage charge depends on (a capacity change under a contract with its own commit_bps).
    cuts = {s for s, _e, _t in contract.segments(first, last)[1:]} | set(_capacity_cuts(line, first, last))
    starts = [first, *sorted(cuts)]
    merged: list[tuple[dt.date, dt.date, Contract, int]] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - _DAY if i + 1 < len(starts) else last
        terms = contract.terms_on(start)
        commit = commit_on(contract, line, start)
        same_commit = merged and (
            merged[-1][3] == commit or terms.billing.model is not BillingModel.BURSTABLE_95
        )
        if merged and same_commit and merged[-1][2].billing == terms.billing:
            merged[-1] = (merged[-1][0], end, merged[-1][2], commit)
        else:
            merged.append((start, end, terms, commit))
    total = _days(first, last)
    shares = [Decimal(_days(s, e)) / total for s, e, _t, _c in merged]
    shares[-1] = ONE - sum(shares[:-1], ZERO)
    return [
        UsageSegment(first=s, last=e, terms=t, commit_bps=c, share=share)
        for (s, e, t, c), share in zip(merged, shares, strict=True)
    ]
