"""Contract versions (``changes:`` in contracts.yaml): validation naming the field, the terms in force on a day,
and the month cut into segments where a change takes effect."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from billing_support import CONTRACTS, write_config_tree

from billing_etl.config import Contract, ContractsFile
from linewatch.configcheck import check_all

D = Decimal
NOV_16 = dt.date(2026, 11, 16)

BURST: dict[str, Any] = {
    "line": "L-BURST",
    "carrier": "Acme",
    "mrc": 500,
    "commit_bps": 100_000_000,
    "billing": {"model": "burstable_95th", "price_per_mbps": 2},
    "discounts": [{"name": "loyalty", "percent": 10}],
    "changes": [
        {"effective": NOV_16, "mrc": 800, "commit_bps": 200_000_000},
        {"effective": dt.date(2027, 1, 1), "price_per_mbps": 1.5},
    ],
}


def _contract(data: dict[str, Any]) -> Contract:
    return ContractsFile.model_validate({"contracts": [data]}).contracts[0]


@pytest.mark.parametrize(
    ("day", "mrc", "commit_bps", "price_per_mbps"),
    [
        pytest.param(dt.date(2026, 11, 15), D(500), 100_000_000, D(2), id="the-day-before-the-old-terms"),
        pytest.param(NOV_16, D(800), 200_000_000, D(2), id="the-effective-day-itself-the-new-terms"),
        pytest.param(
            dt.date(2027, 1, 1), D(800), 200_000_000, D("1.5"), id="a-later-change-keeps-the-earlier"
        ),
    ],
)
def test_terms_on_a_day_apply_every_change_effective_by_then(
    day: dt.date, mrc: Decimal, commit_bps: int, price_per_mbps: Decimal
) -> None:
    terms = _contract(BURST).terms_on(day)
    assert (terms.mrc, terms.commit_bps, terms.billing.price_per_mbps) == (mrc, commit_bps, price_per_mbps)
    assert terms.changes == []


def test_mrc_on_a_day_is_the_changed_mrc_after_its_discounts() -> None:
    contract = _contract(BURST)
    assert contract.mrc_on(dt.date(2026, 11, 15)) == D(450)  # 500 − 10 %
    assert contract.mrc_on(NOV_16) == D(720)  # 800 − 10 %


@pytest.mark.parametrize(
    ("first", "last", "cuts"),
    [
        pytest.param(
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 30),
            [(dt.date(2026, 11, 1), dt.date(2026, 11, 15), 500), (NOV_16, dt.date(2026, 11, 30), 800)],
            id="change-inside-the-month",
        ),
        pytest.param(
            dt.date(2026, 10, 1),
            dt.date(2026, 10, 31),
            [(dt.date(2026, 10, 1), dt.date(2026, 10, 31), 500)],
            id="month-before-the-change",
        ),
        pytest.param(
            NOV_16,
            dt.date(2026, 11, 30),
            [(NOV_16, dt.date(2026, 11, 30), 800)],
            id="change-on-the-first-day-is-no-cut",
        ),
        pytest.param(dt.date(2026, 11, 2), dt.date(2026, 11, 1), [], id="empty-range"),
    ],
)
def test_segments_cut_the_range_where_a_change_takes_effect(
    first: dt.date, last: dt.date, cuts: list[tuple[dt.date, dt.date, int]]
) -> None:
    segments = _contract(BURST).segments(first, last)
    assert [(a, b, int(t.mrc)) for a, b, t in segments] == cuts


def test_contract_without_changes_is_its_own_terms() -> None:
    plain = _contract({k: v for k, v in BURST.items() if k != "changes"})
    assert plain.terms_on(NOV_16) is plain
    assert plain.term is None


def test_early_termination_pct_defaults_to_100() -> None:
    contract = _contract({**BURST, "term": {"start": dt.date(2025, 1, 1), "months": 24}})
    assert contract.term is not None and contract.term.early_termination_pct == D(100)


def _changed(path: tuple[Any, ...], value: object, contract: int = 1) -> dict[str, Any]:
    data = copy.deepcopy(CONTRACTS)
    node = data["contracts"][contract]
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[path[-1]] = value
    return data


BROKEN = [
    pytest.param(
        _changed(("changes",), [{"effective": "2026-11-16"}]),
        "contracts[1].changes[0]",
        "a change sets at least one of mrc, commit_bps",
        id="change-that-changes-nothing",
    ),
    pytest.param(
        _changed(
            ("changes",), [{"effective": "2026-11-16", "mrc": 1}, {"effective": "2026-11-16", "mrc": 2}]
        ),
        "contracts[1].changes[1].effective",
        "not after the previous change's 2026-11-16",
        id="changes-not-strictly-increasing",
    ),
    pytest.param(
        _changed(("changes",), [{"effective": "2026-11-16", "price_per_mbps": 3}], contract=0),
        "contracts[0].changes[0].price_per_mbps",
        "price_per_mbps is a term of burstable_95th billing; this contract is flat",
        id="term-of-another-billing-model",
    ),
    pytest.param(
        _changed(("changes",), [{"effective": "2026-11-16", "included_gb": 5}]),
        "contracts[1].changes[0].included_gb",
        "included_gb is a term of volume_quota billing",
        id="quota-term-on-a-burstable-contract",
    ),
    pytest.param(
        _changed(("changes",), [{"effective": "2026-11-16", "mrc": -1}]),
        "contracts[1].changes[0].mrc",
        "greater than or equal to 0",
        id="negative-changed-mrc",
    ),
    pytest.param(
        _changed(("changes",), [{"effective": "2026-11-16", "commit": 1}]),
        "contracts[1].changes[0].commit",
        "unknown key",
        id="unknown-key-in-a-change",
    ),
    pytest.param(
        _changed(("term",), {"start": "2025-01-01", "months": 24, "early_termination_pct": 120}),
        "contracts[1].term.early_termination_pct",
        "less than or equal to 100",
        id="early-termination-over-100-pct",
    ),
]


@pytest.mark.parametrize(("data", "key", "reason"), BROKEN)
def test_broken_change_is_reported_naming_the_field(
    tmp_path: Path, data: dict, key: str, reason: str
) -> None:
    cfg = write_config_tree(tmp_path)
    (tmp_path / "contracts.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    problems = [p for p in check_all(cfg) if p.file.endswith("contracts.yaml")]
    assert any(p.key == key and reason in p.reason and p.line for p in problems), [str(p) for p in problems]


@pytest.mark.parametrize(
    ("days", "days_in_month", "convention", "fractions"),
    [
        pytest.param([15, 15], 30, "actual_days", [D(1) / 2, D(1) / 2], id="actual-30-day-month-halves"),
        pytest.param([15, 16], 31, "actual_days", [D(15) / 31, D(16) / 31], id="actual-31-day-month"),
        pytest.param(
            [15, 16], 31, "thirtieths", [D(15) / 30, D(15) / 30], id="thirtieths-31-days-still-30-30"
        ),
        pytest.param(
            [15, 13], 28, "thirtieths", [D(15) / 30, D(15) / 30], id="thirtieths-february-still-30-30"
        ),
        pytest.param([10], 31, "thirtieths", [D(10) / 30], id="thirtieths-partial-month"),
        pytest.param([20, 11], 31, "thirtieths", [D(20) / 30, D(10) / 30], id="thirtieths-capped-at-30-30"),
    ],
)
def test_month_fractions_of_a_month_cut_by_a_change(
    days: list[int], days_in_month: int, convention: str, fractions: list[Decimal]
) -> None:
    from billing_etl.proration import month_fractions
    from linewatch.choices import ProrationConvention

    got = month_fractions(days, days_in_month, ProrationConvention(convention))
    assert [round(f, 20) for f in got] == [round(f, 20) for f in fractions]
    if sum(days) == days_in_month:
        assert sum(got) == 1


def test_thirtieths_contract_with_a_change_in_a_31_day_month_is_30_30() -> None:
    """December: 15 days at 500 = 15/30, 16 days at 800 = 15/30 (not 16/30): 250 + 400 = 650."""
    from billing_etl.audit import expected_mrc

    contract = _contract(
        {
            **BURST,
            "proration": "thirtieths",
            "discounts": [],
            "changes": [{"effective": dt.date(2026, 12, 16), "mrc": 800}],
        }
    )
    assert expected_mrc(contract, dt.date(2026, 12, 1), dt.date(2026, 12, 31)) == D("650.00")


def test_a_contract_without_commit_follows_the_lines_capacity_versions() -> None:
    """No commit_bps: the commit is the inventory capacity in force, so its change cuts the month for the
    95th percentile (a capacity change during a day counts from the next day)."""
    from billing_etl.proration import usage_segments
    from linewatch.inventory import Inventory

    line_data = {
        "id": "L-BURST",
        "carrier": "Acme",
        "circuit_id": "C-2",
        "type": "internet",
        "site": "A",
        "department": "Sales",
        "device": "r1",
        "interface": "e2",
        "capacity_bps": 100_000_000,
        "capacity_changes": [{"effective": "2026-11-20T09:00:00+09:00", "capacity_bps": 200_000_000}],
    }
    device = {"name": "r1", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "x"}}
    line = Inventory.model_validate({"devices": [device], "lines": [line_data]}).lines[0]
    contract = _contract({k: v for k, v in BURST.items() if k not in ("changes", "commit_bps")})
    segments = usage_segments(contract, line, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    # 2026-11-20T09:00+09:00 is 2026-11-20T00:00Z: in force from the 20th
    assert [(s.first.day, s.last.day, s.commit_bps, s.share) for s in segments] == [
        (1, 19, 100_000_000, D(19) / 30),
        (20, 30, 200_000_000, 1 - D(19) / 30),
    ]
    with_commit = _contract({k: v for k, v in BURST.items() if k != "changes"})
    assert len(usage_segments(with_commit, line, dt.date(2026, 11, 1), dt.date(2026, 11, 30))) == 1


def test_usage_with_segments_reads_back_from_the_store(tmp_path: Path) -> None:
    from billing_etl.store import InvoiceStore
    from billing_etl.usage import LineUsage, SegmentUsage

    segments = (
        SegmentUsage("2026-11-01", "2026-11-15", 4320, 150e6, 1.0, 2.0),
        SegmentUsage("2026-11-16", "2026-11-30", 4320, None, 3.0, 4.0),
    )
    measured = LineUsage(
        "L", "2026-11", "max", 8640, 2.6e8, 4.0, 6.0, 1e6, 2e6, 50.0, None, 0.0, 0.0, 100.0, segments
    )
    plain = LineUsage("P", "2026-11", "max", 0, None, 0.0, 0.0, None, None, None, None, 0.0, 0.0, None)
    with InvoiceStore(tmp_path / "billing.sqlite") as store:
        store.save_usage("2026-11", {u.line: u.as_dict() for u in (measured, plain)})
        back = {line: LineUsage(**data) for line, data in store.load_usage("2026-11").items()}  # type: ignore[arg-type]
    assert back == {"L": measured, "P": plain}
    assert back["L"].segment(("2026-11-16", "2026-11-30")) == segments[1]
