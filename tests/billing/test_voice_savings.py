"""Channel sizing proposals (billing_etl.voice_savings): the busy hour of each day, the ten-high-day design traffic,
Erlang B at the target grade of service against the contracted channels. Call frames written in code."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from billing_support import OCT
from voice_billing_support import VOICE_CONTRACTS, VOICE_INVENTORY, VOICE_LINE, call, calls_frame, voice_config

from billing_etl.config import BillingConfig, ContractsFile
from billing_etl.savings import propose
from billing_etl.voice_savings import channel_sizing
from linewatch.choices import SavingsAction
from linewatch.inventory import Inventory

DAY_S = 86_400


def _busy_hours(*, days: int, answered: int, blocked: int = 0, hold_s: float = 180.0) -> list[dict]:
    """``days`` days from 2026-10-05, each with ``answered`` calls of ``hold_s`` spread evenly over 10:00–11:00 UTC
    and ``blocked`` blocked attempts in the same hour."""
    rows = []
    for d in range(days):
        hour = OCT.start_s + (4 + d) * DAY_S + 10 * 3600
        for i in range(answered):
            rows.append(call(f"{d}-{i}", start_s=hour + i * 3600 / answered, ring_s=0.0, talk_s=hold_s))
        for i in range(blocked):
            rows.append(call(f"{d}-b{i}", start_s=hour + 7 + i * 3600 / max(blocked, 1), outcome="blocked"))
    return rows


def _config(channels: int, price: str | None = "5.00") -> BillingConfig:
    inventory = copy.deepcopy(VOICE_INVENTORY)
    inventory["lines"][-1]["channels"] = channels
    contracts = copy.deepcopy(VOICE_CONTRACTS)
    contracts["contracts"][-1]["price_per_channel"] = price
    base = voice_config(contracts)
    return BillingConfig(carriers=base.carriers, contracts=ContractsFile.model_validate(contracts),
                         inventory=Inventory.model_validate(inventory), invoice_dir=base.invoice_dir)


def _proposals(config: BillingConfig, rows: list[dict]):
    lines = {VOICE_LINE: config.inventory.lines_by_id[VOICE_LINE]}
    sizing = channel_sizing(config, calls_frame(rows), lines, {VOICE_LINE: (OCT.start_s, OCT.end_s)})
    return sizing[VOICE_LINE], propose(config, OCT, {}, {}, channels=sizing)


def test_a_lightly_loaded_trunk_gets_a_fewer_channels_proposal_priced_per_channel() -> None:
    """60 calls of 3 minutes in the busy hour: ~2.95 E, which Erlang B carries on 8 channels at 1 % (the table:
    8 channels carry 3.13 E); 30 contracted → 22 fewer at 5.00 EUR a month each."""
    sizing, [proposal] = _proposals(_config(30), _busy_hours(days=12, answered=60))
    assert sizing.design_erlangs == pytest.approx(2.95, abs=0.01)
    assert (sizing.channels_needed, sizing.days) == (8, 12)
    assert (proposal.action, proposal.current_channels, proposal.proposed_channels) == (
        SavingsAction.FEWER_CHANNELS, 30, 8)
    assert (proposal.monthly_saving, proposal.current_mrc, proposal.proposed_mrc, proposal.currency) == (
        Decimal("110.00"), Decimal("250.00"), Decimal("140.00"), "EUR")
    assert "Erlang B needs 8 channels for 1 % blocking; 30 contracted" in proposal.evidence


def test_a_trunk_that_blocks_calls_gets_a_more_channels_proposal_with_its_cost() -> None:
    """180 calls carried and 40 blocked in the busy hour on 10 channels: the offered traffic is grossed up by the
    blocked share (carried / (1 − 40/220)), far above what 10 channels carry at 1 %."""
    sizing, [proposal] = _proposals(_config(10), _busy_hours(days=12, answered=180, blocked=40))
    assert sizing.design_erlangs == pytest.approx(8.8 / (1 - 40 / 220), rel=0.01)
    assert sizing.blocking_pct > 15
    assert (proposal.action, proposal.current_channels) == (SavingsAction.MORE_CHANNELS, 10)
    assert proposal.proposed_channels == sizing.channels_needed == 19  # the table: 19 channels carry 11.2 E at 1 %
    assert (proposal.monthly_saving, proposal.proposed_mrc) == (Decimal("-45.00"), Decimal("295.00"))  # 9 more
    assert f"{12 * 40:,} calls blocked in 2026-10" in proposal.evidence


def test_a_trunk_sized_right_gets_no_proposal() -> None:
    _sizing, proposals = _proposals(_config(8), _busy_hours(days=12, answered=60))
    assert proposals == []


def test_a_trunk_without_calls_gets_no_proposal() -> None:
    sizing, proposals = _proposals(_config(30), [])
    assert (sizing.days, proposals) == (0, [])


def test_without_a_price_per_channel_the_proposal_names_the_channels_only() -> None:
    _sizing, [proposal] = _proposals(_config(30, price=None), _busy_hours(days=12, answered=60))
    assert (proposal.proposed_channels, proposal.monthly_saving, proposal.proposed_mrc) == (8, None, None)


def test_the_design_traffic_is_the_mean_of_the_ten_busiest_days_not_the_single_peak() -> None:
    """Eleven quiet days and one very busy day: the busy day is one of ten, it does not size the trunk alone."""
    rows = _busy_hours(days=11, answered=60)
    rows += [call(f"peak-{i}", start_s=OCT.start_s + 20 * DAY_S + 10 * 3600 + i * 12, ring_s=0.0, talk_s=180)
             for i in range(300)]
    sizing, _ = _proposals(_config(30), rows)
    assert sizing.busiest_hour_erlangs > 14
    assert sizing.design_erlangs < 5
