"""Savings proposals: idle → terminate, saturated → upgrade, underused for N months → smaller commit, priced
from the carrier's rate card (billing_support: 20/50/100/200 Mbit/s at 60/150/200/320 EUR; L-BURST commits
100 Mbit/s for 200 EUR; N = 2 months below 30 %, idle below 0.1 Mbit/s, headroom 25 %)."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from billing_support import CONTRACTS, OCT, SEP, D, billing_config, usage

from billing_etl.savings import propose
from billing_etl.usage import SegmentUsage

MBPS = 1_000_000


def _propose(
    oct_p95: float, sep_p95: float | None, *, rate_card: bool = True, availability_pct: float = 100.0
) -> list:
    config = billing_config()
    if not rate_card:
        carriers = config.carriers.model_copy(
            update={"carriers": [c.model_copy(update={"rate_card": []}) for c in config.carriers.carriers]}
        )
        config = dataclasses.replace(config, carriers=carriers)
    history = {} if sep_p95 is None else {str(SEP): {"L-BURST": usage("L-BURST", SEP, p95_bps=sep_p95)}}
    now = {"L-BURST": usage("L-BURST", p95_bps=oct_p95, availability_pct=availability_pct)}
    return propose(config, OCT, now, history)


@pytest.mark.parametrize(
    ("oct_mbps", "sep_mbps", "rate_card", "expected"),
    [
        pytest.param(
            0.05, None, True, ("terminate", None, None, "200.00"), id="idle-terminate-saves-the-mrc"
        ),
        pytest.param(80, None, True, None, id="exactly-80pct-is-not-saturated"),
        pytest.param(20, 25, True, ("downgrade", 50, "150", "50.00"), id="underused-two-months-priced"),
        pytest.param(20, 25, False, ("downgrade", 32, None, None), id="underused-without-rate-card"),
        pytest.param(20, 40, True, None, id="underused-only-this-month"),
        pytest.param(20, None, True, None, id="underused-without-history"),
        pytest.param(50, 50, True, None, id="half-used-no-proposal"),
    ],
)
def test_proposal(oct_mbps: float, sep_mbps: float | None, rate_card: bool, expected: tuple | None) -> None:
    proposals = _propose(oct_mbps * MBPS, None if sep_mbps is None else sep_mbps * MBPS, rate_card=rate_card)
    if expected is None:
        assert proposals == []
        return
    [p] = proposals
    action, commit_mbps, mrc, saving = expected
    assert (p.line, p.action.value, p.current_commit_bps, p.current_mrc) == (
        "L-BURST",
        action,
        100 * MBPS,
        D("200"),
    )
    assert p.proposed_commit_bps == (None if commit_mbps is None else commit_mbps * MBPS)
    assert p.proposed_mrc == (None if mrc is None else D(mrc))
    assert p.monthly_saving == (None if saving is None else D(saving))


def test_downgrade_shows_the_figures_it_rests_on() -> None:
    [p] = _propose(20 * MBPS, 25 * MBPS)
    assert "2026-09: 25.00 Mbit/s (25.0 %)" in p.evidence and "2026-10: 20.00 Mbit/s (20.0 %)" in p.evidence
    assert "100.00 Mbit/s commit" in p.evidence


@pytest.mark.parametrize(
    ("oct_mbps", "sep_mbps", "availability_pct", "expected_action"),
    [
        pytest.param(0.05, None, 50.0, None, id="idle-because-down-is-not-a-termination"),
        pytest.param(0.05, None, 95.0, "terminate", id="idle-and-up-95pct-is"),
        pytest.param(20, 25, 90.0, None, id="underused-because-down-is-not-a-downgrade"),
        pytest.param(190, None, 50.0, "upgrade", id="saturated-while-up-still-needs-an-upgrade"),
    ],
)
def test_outage_is_not_a_lack_of_demand(
    oct_mbps: float, sep_mbps: float | None, availability_pct: float, expected_action: str | None
) -> None:
    proposals = _propose(
        oct_mbps * MBPS, None if sep_mbps is None else sep_mbps * MBPS, availability_pct=availability_pct
    )
    assert [p.action.value for p in proposals] == ([] if expected_action is None else [expected_action])


@pytest.mark.parametrize(
    ("oct_mbps", "rate_card", "expected"),
    [
        # L-BURST: 100 Mbit/s commit for 200 EUR + 2 EUR per Mbit/s above; the 200 Mbit/s commit costs 320.
        pytest.param(90, True, None, id="above-80pct-below-the-commit-no-burst-to-pay"),
        pytest.param(150, True, None, id="burst-100-cheaper-than-the-next-commit-120-more"),
        pytest.param(160, True, None, id="burst-120-equal-to-the-next-commit-120-more"),
        pytest.param(190, True, ("upgrade", 200, "320", "60.00"), id="burst-180-dearer-than-next-commit"),
        pytest.param(
            250, True, ("upgrade", 200, "320", "80.00"), id="burst-300-vs-next-commit-with-its-burst"
        ),
        pytest.param(190, False, None, id="next-commit-unpriced-without-rate-card"),
    ],
)
def test_burstable_upgrade_only_when_burst_costs_more_than_next_commit(
    oct_mbps: float, rate_card: bool, expected: tuple | None
) -> None:
    """Above 80 % of a burstable commit the overage is billed per Mbit/s: an upgrade is proposed only where
    that costs more than the bigger commit (MRC + its own burst), and then it saves money."""
    proposals = _propose(oct_mbps * MBPS, None, rate_card=rate_card)
    if expected is None:
        assert proposals == []
        return
    [p] = proposals
    action, commit_mbps, mrc, saving = expected
    assert (p.action.value, p.proposed_commit_bps, p.proposed_mrc, p.monthly_saving) == (
        action,
        commit_mbps * MBPS,
        D(mrc),
        D(saving),
    )


def test_burstable_upgrade_shows_burst_cost_and_next_commit_price() -> None:
    [p] = _propose(190 * MBPS, None)
    assert "expected burst cost 180.00 EUR" in p.evidence, p.evidence
    assert "200.00 Mbit/s commit's extra price (120.00 EUR; 320.00 EUR with its burst)" in p.evidence, (
        p.evidence
    )
    assert "380.00 EUR with the MRC" in p.evidence, p.evidence


def test_saturated_flat_line_still_gets_an_upgrade_at_its_cost() -> None:
    """Without burst pricing there is nothing cheaper to pay: saturation alone proposes the next commit."""
    config = billing_config()
    proposals = propose(config, OCT, {"L-FLAT": usage("L-FLAT", p95_bps=90 * MBPS)}, {})
    assert [(p.line, p.action.value, p.proposed_commit_bps, p.monthly_saving) for p in proposals] == [
        ("L-FLAT", "upgrade", 200 * MBPS, D("-220.00"))
    ]


def test_a_contract_changed_in_the_period_is_judged_by_its_terms_at_the_end() -> None:
    """L-BURST goes from a 100 Mbit/s commit (200 EUR) to 200 Mbit/s (320 EUR) on 16 October. The month's p95
    (150 Mbit/s: 150 % of the old commit) would call for an upgrade; against the new commit the last segment's
    p95 (30 Mbit/s, 15 %) with September's 25 Mbit/s is underused: a downgrade from the new terms."""
    contracts = copy.deepcopy(CONTRACTS)
    contracts["contracts"][1]["commit_bps"] = 100 * MBPS
    contracts["contracts"][1]["changes"] = [{"effective": "2026-10-16", "commit_bps": 200 * MBPS, "mrc": 320}]
    config = billing_config(contracts)
    segments = (
        SegmentUsage("2026-10-01", "2026-10-15", 4320, 150.0 * MBPS, 0.0, 0.0),
        SegmentUsage("2026-10-16", "2026-10-31", 4608, 30.0 * MBPS, 0.0, 0.0),
    )
    now = {"L-BURST": dataclasses.replace(usage("L-BURST", p95_bps=150 * MBPS), segments=segments)}
    history = {str(SEP): {"L-BURST": usage("L-BURST", SEP, p95_bps=25 * MBPS)}}
    [p] = propose(config, OCT, now, history)
    assert (p.action.value, p.current_commit_bps, p.current_mrc) == ("downgrade", 200 * MBPS, D("320"))
    assert (p.proposed_commit_bps, p.proposed_mrc, p.monthly_saving) == (50 * MBPS, D("150"), D("170.00"))
