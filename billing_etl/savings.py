"""Savings proposals from measured usage: downgrade underused lines, terminate idle ones, upgrade saturated
ones.

Each proposal carries its evidence (the 95th percentiles it rests on, the commit, the prices) so finance can
check it. Prices come from the carrier's rate card (``carriers.yaml``) when one is configured; otherwise the
saving is left empty and the proposal still names the commit to ask for.

On a **burstable** contract a 95th percentile near or above the commit is not a reason to upgrade by itself:
the traffic above the commit is billed per Mbit/s. An upgrade is proposed only when the expected burst cost
(this period's 95th percentile over the commit × the contract's price per Mbit/s) exceeds what the next commit
costs more (its MRC plus its own burst, if any, minus today's MRC); the proposal shows both figures and its
saving is positive. Without a rate card the bigger commit cannot be priced, so no upgrade is proposed.

A contract changed during the period (``changes:``) is judged by **the terms in force at the end of the
period** (commit, MRC, price per Mbit/s: a proposal is about the months to come), against the 95th percentile
measured under them (the last usage segment's, when the commit changed inside the month).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from billing_etl.audit import burst_cost
from billing_etl.config import BillingConfig, Burstable, Contract, RateCardTier
from billing_etl.model import Period, money
from billing_etl.proration import commit_on
from billing_etl.usage import LineUsage, day_start_s
from linewatch.choices import LineStatus, SavingsAction

if TYPE_CHECKING:  # billing_etl.voice_savings builds its proposals on this module's
    from billing_etl.voice_savings import ChannelSizing


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
    # negative: what the change costs more (a flat upgrade); a burstable upgrade saves (the burst cost more)
    monthly_saving: Decimal | None
    evidence: str
    currency: str | None  # None only for a line with no contract and no described carrier (then no amounts)
    # voice trunks (billing_etl.voice_savings): the contracted channels and the channels proposed
    current_channels: int | None = None
    proposed_channels: int | None = None


def _fmt_bps(bps: float) -> str:
    return f"{bps / 1e6:,.2f} Mbit/s"


def _tier_at_least(card: Sequence[RateCardTier], bps: float) -> RateCardTier | None:
    return next((t for t in card if t.commit_bps >= bps), None)


def _burstable_upgrade(
    contract: Contract,
    billing: Burstable,
    card: Sequence[RateCardTier],
    p95: float,
    commit: int,
    mrc: Decimal,
) -> tuple[RateCardTier, Decimal, Decimal, Decimal] | None:
    """(tier, burst now, cost now, cost with the tier) of the cheapest bigger commit, when it is cheaper than
    paying the burst; None when the burst is cheaper (or nothing on the rate card is bigger)."""
    burst_now = burst_cost(billing, p95, commit)
    cost_now = mrc + burst_now
    best: tuple[Decimal, RateCardTier] | None = None
    for tier in card:
        if tier.commit_bps <= commit:
            continue
        cost = tier.mrc + burst_cost(billing, p95, tier.commit_bps)
        if best is None or cost < best[0]:
            best = (cost, tier)
    if best is None or best[0] >= cost_now:
        return None
    currency = contract.currency
    return best[1], money(burst_now, currency), money(cost_now, currency), money(best[0], currency)


def propose(
    config: BillingConfig,
    period: Period,
    usage: Mapping[str, LineUsage],
    history: Mapping[str, Mapping[str, LineUsage]],
    *,
    channels: Mapping[str, ChannelSizing] | None = None,
) -> list[Proposal]:
    """Proposals for ``period``. ``history`` maps earlier periods ("YYYY-MM") to their usage per line;
    ``channels``: the voice trunks' sizing of the period (:mod:`billing_etl.voice_savings`), for their
    fewer/more channels proposals."""
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
        end = period.last_day
        commit = commit_on(contract, line, end) if contract else line.capacity_at(day_start_s(end))
        mrc = contract.mrc_on(end) if contract else None
        carrier = carriers.get(line.carrier)
        currency = contract.currency if contract else (carrier.currency if carrier else None)
        card = carriers[line.carrier].rate_card if line.carrier in carriers else []
        last_segment = now.segments[-1] if now.segments else None
        p95 = last_segment.p95_bps if last_segment and last_segment.p95_bps is not None else now.p95_bps
        pct = 100 * p95 / commit
        headroom = 1 + float(rules.headroom_pct) / 100
        base = {
            "line": line.id,
            "carrier": line.carrier,
            "department": line.department,
            "current_commit_bps": commit,
            "current_mrc": mrc,
            "currency": currency,
        }
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
        billing = contract.terms_on(end).billing if contract else None
        if pct > float(rules.saturated_pct) and isinstance(billing, Burstable):
            assert contract is not None
            upgrade = (
                _burstable_upgrade(contract, billing, card, p95, commit, mrc) if mrc is not None else None
            )
            if upgrade is not None:
                tier, burst_now, cost_now, cost_then = upgrade
                out.append(
                    Proposal(
                        action=SavingsAction.UPGRADE,
                        proposed_commit_bps=tier.commit_bps,
                        proposed_mrc=tier.mrc,
                        monthly_saving=cost_now - cost_then,
                        evidence=f"95th percentile {_fmt_bps(p95)} in {period} is {pct:.1f} % of the "
                        f"{_fmt_bps(commit)} commit: expected burst cost {burst_now:,} {currency} "
                        f"({money(billing.price_per_mbps, currency):,} {currency}/Mbit/s above the commit; {cost_now:,} "
                        f"{currency} with the MRC) exceeds the {_fmt_bps(tier.commit_bps)} commit's extra "
                        f"price ({money(tier.mrc - mrc, currency):,} {currency}; {cost_then:,} {currency} with its "
                        "burst)",
                        **base,
                    )
                )
            continue  # paying the burst is cheaper (or the bigger commit cannot be priced)
        if pct > float(rules.saturated_pct):
            tier = _tier_at_least(card, max(p95 * headroom, commit + 1))
            proposed = tier.commit_bps if tier else int(math.ceil(p95 * headroom / 1e6) * 1e6)
            out.append(
                Proposal(
                    action=SavingsAction.UPGRADE,
                    proposed_commit_bps=proposed,
                    proposed_mrc=tier.mrc if tier else None,
                    monthly_saving=money(mrc - tier.mrc, currency) if tier and mrc is not None else None,
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
            figures.append((m, p95 if m == period else u.p95_bps))
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
                    monthly_saving=money(mrc - tier.mrc, currency) if tier and mrc is not None else None,
                    evidence=f"95th percentile below {rules.underused_pct} % of the {_fmt_bps(commit)} "
                    "commit for "
                    f"{len(figures)} month(s): {per_month}",
                    **base,
                )
            )
    if channels:
        from billing_etl.voice_savings import channel_proposals

        out += channel_proposals(config, period, channels)
    return sorted(out, key=lambda p: (p.action.value, p.carrier, p.line))
