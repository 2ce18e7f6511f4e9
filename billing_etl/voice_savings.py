"""Channel sizing proposals for voice trunks: too many contracted channels, or blocking that needs more.

The evidence is the period's calls (the call store, :class:`~billing_etl.voice_audit.VoiceMonth`), per UTC day as
the collector writes ``voice_capacity`` (:func:`collector.voice.aggregate.capacity_table`, the same figures the
dashboards show):

1. the **busy hour** — the clock hour with the most carried traffic (Erlangs: channel-seconds ÷ 3,600 of the calls
   holding a channel);
2. the **offered** traffic of that hour: the carried traffic grossed up by the hour's share of blocked attempts
   (:func:`~linewatch.voice.erlang.offered_traffic`) — blocked calls are demand the trunk turned away;
3. the **design traffic** of the period: the mean of the ten highest days' offered busy hours
   (:func:`~linewatch.voice.erlang.design_traffic`: the classic "ten high days" design load, one peak day does not
   size a trunk);
4. Erlang B at the design traffic: the channels needed for the target grade of service (voice.yaml
   ``capacity.target_gos_pct``, 1 %) and the blocking at the contracted channels.

``fewer_channels`` when fewer channels than contracted meet the target (the saving: the channels given up × the
contract's ``price_per_channel``); ``more_channels`` when the blocking at the contracted channels exceeds the
target (the extra channels' price as a negative saving, and the blocked calls of the period it would have carried).
A line without a call in the period gets no proposal (no evidence); without ``price_per_channel`` the amounts are
left empty and the proposal still names the channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from billing_etl.config import BillingConfig
from billing_etl.model import Period, money
from billing_etl.proration import commit_on
from billing_etl.savings import Proposal
from billing_etl.usage import day_start_s
from linewatch.choices import CallOutcome, LineStatus, SavingsAction
from linewatch.inventory import Line

DESIGN_DAYS = 10


@dataclass(frozen=True)
class ChannelSizing:
    """A trunk's period, sized: what the Voice trunks sheet and the proposals show."""

    line: str
    channels: int | None
    days: int  # days with calls
    design_erlangs: float
    busiest_hour_erlangs: float  # the highest carried busy hour of the period
    channels_needed: int
    blocking_pct: float | None  # Erlang B at the contracted channels for the design traffic
    blocked: int  # blocked calls of the period
    target_gos: float


def channel_sizing(
    config: BillingConfig, calls: pd.DataFrame, lines: Mapping[str, Line], windows: Mapping[str, tuple[float, float]]
) -> dict[str, ChannelSizing]:
    """Every voice line sized from its calls of the period (its month's window; see the module)."""
    from collector.voice.aggregate import capacity_table
    from linewatch.voice.erlang import channels_for, design_traffic, erlang_b

    target = config.voice.capacity.target_gos
    line_col = calls["line"].astype("string")
    out = {}
    for line_id, line in sorted(lines.items()):
        mine = calls[(line_col == line_id).fillna(False).to_numpy(dtype=bool)]
        start, end = windows[line_id]
        days = capacity_table(mine, lines={line_id: line}, day_start_s=start, day_end_s=end, target_gos=target)
        design = float(design_traffic(days["offered_erlangs"].tolist(), n=DESIGN_DAYS)) if len(days) else 0.0
        blocked = (mine["outcome"].astype("string") == CallOutcome.BLOCKED.value).fillna(False)
        out[line_id] = ChannelSizing(
            line=line_id,
            channels=line.channels,
            days=len(days),
            design_erlangs=design,
            busiest_hour_erlangs=float(days["busy_hour_erlangs"].max()) if len(days) else 0.0,
            channels_needed=int(channels_for(design, gos=target)),
            blocking_pct=100 * float(erlang_b(design, line.channels)) if line.channels and len(days) else None,
            blocked=int(blocked.sum()),
            target_gos=target,
        )
    return out


def _price(channels: int, price: Decimal | None, currency: str | None) -> Decimal | None:
    return None if price is None else money(price * channels, currency)


def channel_proposals(
    config: BillingConfig, period: Period, sizing: Mapping[str, ChannelSizing]
) -> list[Proposal]:
    """``fewer_channels`` / ``more_channels`` for the active voice lines with contracted channels."""
    contracts = config.contracts.by_line()
    carriers = config.carriers.by_name()
    lines = config.inventory.lines_by_id
    out = []
    for line_id, s in sorted(sizing.items()):
        line = lines[line_id]
        if line.status is not LineStatus.ACTIVE or not line.channels or not s.days:
            continue
        contract = contracts.get(line_id)
        end = period.last_day
        carrier = carriers.get(line.carrier)
        currency = contract.currency if contract else (carrier.currency if carrier else None)
        price = contract.price_per_channel if contract else None
        mrc = contract.mrc_on(end) if contract else None
        gos = 100 * s.target_gos
        traffic = (
            f"design busy-hour traffic {s.design_erlangs:,.2f} E offered (mean of the {min(DESIGN_DAYS, s.days)} "
            f"busiest of {s.days} days in {period}; busiest hour carried {s.busiest_hour_erlangs:,.2f} E)"
        )
        base = {
            "line": line_id,
            "carrier": line.carrier,
            "department": line.department,
            "current_commit_bps": commit_on(contract, line, end) if contract else line.capacity_at(day_start_s(end)),
            "proposed_commit_bps": None,
            "current_mrc": mrc,
            "currency": currency,
            "current_channels": line.channels,
            "proposed_channels": s.channels_needed,
        }
        priced = f" at {money(price, currency):,} {currency}/channel/month" if price is not None else ""
        if s.channels_needed < line.channels:
            saving = _price(line.channels - s.channels_needed, price, currency)
            out.append(
                Proposal(
                    action=SavingsAction.FEWER_CHANNELS,
                    proposed_mrc=None if saving is None or mrc is None else mrc - saving,
                    monthly_saving=saving,
                    evidence=f"{traffic}: Erlang B needs {s.channels_needed} channels for {gos:g} % blocking; "
                    f"{line.channels} contracted ({s.blocking_pct or 0:.3f} % blocking), "
                    f"{line.channels - s.channels_needed} fewer{priced}",
                    **base,
                )
            )
        elif s.blocking_pct is not None and s.blocking_pct > gos:
            extra = _price(s.channels_needed - line.channels, price, currency)
            out.append(
                Proposal(
                    action=SavingsAction.MORE_CHANNELS,
                    proposed_mrc=None if extra is None or mrc is None else mrc + extra,
                    monthly_saving=None if extra is None else -extra,
                    evidence=f"{traffic}: Erlang B gives {s.blocking_pct:.1f} % blocking on the {line.channels} "
                    f"contracted channels (target {gos:g} %); {s.blocked:,} calls blocked in {period}; "
                    f"{s.channels_needed} channels meet the target, {s.channels_needed - line.channels} more{priced}",
                    **base,
                )
            )
    return sorted(out, key=lambda p: (p.action.value, p.carrier, p.line))
