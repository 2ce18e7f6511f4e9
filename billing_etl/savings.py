"""Savings proposals from measured usage: downgrade underused lines, terminate idle ones, upgrade saturated
ones.

Each proposal carries its evidence (the 95th percentiles it rests on, the commit, the prices) so finance can
check it. Prices come from the carrier's rate card (``carriers.yaml``) when one is configured; otherwise the
saving is left empty and the proposal still names the commit to ask for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_etl.config import BillingConfig, RateCardTier
from billing_etl.model import Period, money
from billing_etl.usage import LineUsage
from linewatch.choices import LineStatus, SavingsAction


@dataclass(frozen=True, order=True)
class Proposal:
    line: str
    carrier: str
    department: str
    action: SavingsAction
    current_commit_bps: int
    proposed_commit_bps: int | None
    current_mrc: Decimal | None
    proposed_mrc: Decimal | None
    monthly_saving: Decimal | None  # negative for an upgrade: what it costs
    evidence: str
    currency: str = "EUR"


def _fmt_bps(bps: float) -> str:
    return f"{bps / 1e6:,.2f} Mbit/s"


def _tier_at_least(card: Sequence[RateCardTier], bps: float) -> RateCardTier | None:
    return next((t for t in card if t.commit_bps >= bps), None)


def propose(
    config: BillingConfig,
    period: Period,
    usage: Mapping[str, LineUsage],
    history: Mapping[str, Mapping[str, LineUsage]],
) -> list[Proposal]:
    """Proposals for ``period``. ``history`` maps earlier periods ("YYYY-MM") to their usage per line."""
    rules = config.contracts.savings
    contracts = config.contracts.by_line()
    carriers = config.carriers.by_name()
    out = []
    for line in config.inventory.lines:
        if line.status is not LineStatus.ACTIVE:
            continue
        now = usage.get(line.id)
        if now is None or now.p95_bps is None:
            continue
        contract = contracts.get(line.id)
        commit = contract.commit_bps if contract and contract.commit_bps else line.capacity_bps
        mrc = contract.mrc_on(period.first_day) if contract else None
        currency = contract.currency if contract else "EUR"
        card = carriers[line.carrier].rate_card if line.carrier in carriers else []
        p95 = now.p95_bps
        pct = 100 * p95 / commit
        headroom = 1 + float(rules.headroom_pct) / 100
        base = dict(
            line=line.id,
            carrier=line.carrier,
            department=line.department,
            current_commit_bps=commit,
            current_mrc=mrc,
            currency=currency,
        )
        outage = now.availability_pct is not None and now.availability_pct < float(rules.min_availability_pct)
        if p95 < rules.idle_bps and not outage:
            out.append(
                Proposal(
                    action=SavingsAction.TERMINATE,
                    proposed_commit_bps=None,
                    proposed_mrc=None,
                    monthly_saving=mrc,
                    evidence=f"95th percentile {_fmt_bps(p95)} in {period} is below the idle threshold "
                    f"{_fmt_bps(rules.idle_bps)} ({pct:.2f} % of the {_fmt_bps(commit)} commit); "
                    f"mean in/out {_fmt_bps(now.mean_in_bps or 0)} / {_fmt_bps(now.mean_out_bps or 0)}",
                    **base,
                )
            )
            continue
        if pct > float(rules.saturated_pct):
            tier = _tier_at_least(card, max(p95 * headroom, commit + 1))
            proposed = tier.commit_bps if tier else int(math.ceil(p95 * headroom / 1e6) * 1e6)
            out.append(
                Proposal(
                    action=SavingsAction.UPGRADE,
                    proposed_commit_bps=proposed,
                    proposed_mrc=tier.mrc if tier else None,
                    monthly_saving=money(mrc - tier.mrc) if tier and mrc is not None else None,
                    evidence=f"95th percentile {_fmt_bps(p95)} in {period} is {pct:.1f} % of the "
                    f"{_fmt_bps(commit)} "
                    f"commit (threshold {rules.saturated_pct} %); peak utilization "
                    f"{now.peak_util_pct or 0:.0f} %",
                    **base,
                )
            )
            continue
        if outage or p95 < rules.idle_bps:
            continue  # down for much of the month: the low figures say nothing about the demand
        months = [period]
        for _ in range(rules.underused_months - 1):
            months.append(months[-1].previous())
        figures = []
        for m in months:
            u = usage.get(line.id) if m == period else history.get(str(m), {}).get(line.id)
            if u is None or u.p95_bps is None:
                break
            figures.append((m, u.p95_bps))
        if len(figures) < rules.underused_months:
            continue
        if all(100 * v / commit < float(rules.underused_pct) for _, v in figures):
            peak = max(v for _, v in figures)
            tier = _tier_at_least(card, peak * headroom)
            if tier is not None and tier.commit_bps >= commit:
                continue
            proposed = tier.commit_bps if tier else int(math.ceil(peak * headroom / 1e6) * 1e6)
            per_month = ", ".join(
                f"{m}: {_fmt_bps(v)} ({100 * v / commit:.1f} %)" for m, v in sorted(figures)
            )
            out.append(
                Proposal(
                    action=SavingsAction.DOWNGRADE,
                    proposed_commit_bps=proposed,
                    proposed_mrc=tier.mrc if tier else None,
                    monthly_saving=money(mrc - tier.mrc) if tier and mrc is not None else None,
                    evidence=f"95th percentile below {rules.underused_pct} % of the {_fmt_bps(commit)} "
                    "commit for "
                    f"{len(figures)} month(s): {per_month}",
                    **base,
                )
            )
    return sorted(out, key=lambda p: (p.action.value, p.carrier, p.line))
