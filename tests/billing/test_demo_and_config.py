"""The shipped configuration, `check-config` on broken billing files, and the demo stage of `make run`."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from billing_support import CARRIERS, CONTRACTS, write_config_tree

from billing_etl.config import check_config, load_billing_config
from billing_etl.demo import PLANTED, demo_stage
from linewatch.configcheck import check_all
from linewatch.influx import InfluxClient
from linewatch.inventory import load_inventory
from linewatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def test_shipped_billing_config_is_valid() -> None:
    settings = load_settings(REPO / "config" / "linewatch.yaml")
    assert check_config(settings) == []
    config = load_billing_config(settings)
    assert {c.name for c in config.carriers.carriers} == {
        "Orange Business",
        "Colt",
        "KT Enterprise",
        "Deutsche Telekom",
    }
    assert config.invoice_dir == REPO / "config" / "demo-invoices"


def test_shipped_demo_invoices_flag_only_the_planted_ghost_circuit(tmp_path: Path) -> None:
    """Every invoice in config/demo-invoices bills lines of config/lines.yaml, except the one planted ghost:
    an example invoice of a carrier without lines there (the KT portal example) lives outside invoice_dir."""
    from billing_etl.audit import Auditor
    from billing_etl.model import Period
    from billing_etl.run import find_invoice_files, import_invoices
    from billing_etl.store import InvoiceStore
    from linewatch.choices import AuditRule

    settings = load_settings(REPO / "config" / "linewatch.yaml")
    config = load_billing_config(settings)
    with InvoiceStore(tmp_path / "billing.sqlite") as store:
        imports = import_invoices(config, store, files=find_invoice_files(config, None))
        auditor = Auditor(
            config=config,
            invoices=store.invoices(),
            period=Period.parse("2026-10"),
            usage={},
            conflicts=store.conflicts(),
            rejected=imports.rejected,
        )
        ghosts = sorted(f.circuit_id for f in auditor.run() if f.rule is AuditRule.GHOST_CIRCUIT)
    assert imports.file_errors == []
    assert ghosts == ["OBS-DE-99999"], PLANTED["ghost_circuit"]


def _with(data: dict, path: tuple, value: object) -> dict:
    import copy

    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


BROKEN = [
    pytest.param(
        "carriers.yaml",
        _with(CARRIERS, ("carriers", 0, "layout", "encoding"), "klingon"),
        "carriers[0].layout.encoding",
        "unknown encoding 'klingon'",
        id="unknown-encoding",
    ),
    pytest.param(
        "carriers.yaml",
        _with(CARRIERS, ("carriers", 0, "layout", "columns"), {"amount": "a"}),
        "carriers[0].layout.columns",
        "required invoice field(s) not mapped",
        id="required-column-unmapped",
    ),
    pytest.param(
        "carriers.yaml",
        _with(CARRIERS, ("carriers", 0, "layout", "charge_types"), {"X": "rent"}),
        "carriers[0].layout.charge_types.X",
        "Input should be",
        id="charge-type-not-in-choices",
    ),
    pytest.param(
        "carriers.yaml",
        _with(CARRIERS, ("carriers", 0, "layout", "decimal_separator"), ","),
        "carriers[0].layout",
        "delimiter ',' is also the decimal separator",
        id="separator-clash",
    ),
    pytest.param(
        "carriers.yaml",
        {**CARRIERS, "carriers": [{k: v for k, v in CARRIERS["carriers"][0].items() if k != "currency"}]},
        "carriers[0].currency",
        "Field required",
        id="carrier-without-currency-is-not-assumed-eur",
    ),
    pytest.param(
        "carriers.yaml",
        _with(CARRIERS, ("carriers", 0, "layout", "currency"), "USD"),
        "carriers[0].layout.currency",
        "USD differs from the carrier's currency EUR",
        id="layout-currency-differs-from-the-carriers",
    ),
    pytest.param(
        "contracts.yaml",
        _with(CONTRACTS, ("contracts", 0, "carrier"), "Nobody"),
        "contracts[0].currency",
        "no currency",
        id="contract-of-unknown-carrier-names-no-currency",
    ),
    pytest.param(
        "carriers.yaml",
        _with(CARRIERS, ("carriers", 0, "colour"), "red"),
        "carriers[0].colour",
        "unknown key",
        id="unknown-key",
    ),
    pytest.param(
        "contracts.yaml",
        _with(CONTRACTS, ("contracts", 0, "line"), "NOPE"),
        "contracts[0].line",
        "line 'NOPE' is not in the inventory",
        id="unknown-line",
    ),
    pytest.param(
        "contracts.yaml",
        _with(CONTRACTS, ("contracts", 1, "carrier"), "Other"),
        "contracts[1].carrier",
        "carried by 'Acme' in the inventory",
        id="carrier-differs",
    ),
    pytest.param(
        "contracts.yaml",
        _with(CONTRACTS, ("contracts", 2, "billing", "gb_unit"), "mebi"),
        "contracts[2].billing.gb_unit",
        "Input should be",
        id="bad-gb-unit",
    ),
    pytest.param(
        "contracts.yaml",
        _with(CONTRACTS, ("contracts", 0, "discounts"), [{"name": "x"}]),
        "contracts[0].discounts[0]",
        "give exactly one of percent or amount",
        id="discount-without-value",
    ),
    pytest.param(
        "contracts.yaml",
        _with(CONTRACTS, ("contracts", 1, "sla", "credit_tiers"), [{"below_pct": 99.99, "credit_pct": 5}]),
        "contracts[1].sla",
        "a credit tier starts above the availability target",
        id="sla-tier-above-target",
    ),
    pytest.param(
        "contracts.yaml",
        _with(CONTRACTS, ("contracts", 0, "mrc"), -5),
        "contracts[0].mrc",
        "greater than or equal to 0",
        id="negative-mrc",
    ),
]


@pytest.mark.parametrize(("file", "data", "key", "reason"), BROKEN)
def test_check_config_names_file_line_key_and_reason(
    tmp_path: Path, file: str, data: dict, key: str, reason: str
) -> None:
    cfg = write_config_tree(tmp_path)
    (tmp_path / file).write_text(yaml.safe_dump(data, sort_keys=False))
    problems = [p for p in check_all(cfg) if p.file.endswith(file)]
    assert problems, "expected a problem"
    assert any(p.key == key and reason in p.reason and p.line for p in problems), [str(p) for p in problems]


def test_contract_without_currency_takes_its_carriers_not_eur(tmp_path: Path) -> None:
    carriers = _with(CARRIERS, ("carriers", 0, "currency"), "KRW")
    del carriers["carriers"][0]["layout"]["currency"]  # the layout takes the carrier's too
    cfg = write_config_tree(tmp_path)
    (tmp_path / "carriers.yaml").write_text(yaml.safe_dump(carriers, sort_keys=False))
    config = load_billing_config(load_settings(cfg))
    assert "currency" not in CONTRACTS["contracts"][0]
    assert {c.currency for c in config.contracts.contracts} == {"KRW"}


def test_missing_contracts_file_is_reported(tmp_path: Path) -> None:
    cfg = write_config_tree(tmp_path)
    (tmp_path / "contracts.yaml").unlink()
    assert [p.reason for p in check_all(cfg) if p.file.endswith("contracts.yaml")] == ["file not found"]


@pytest.mark.parametrize(
    ("today", "period", "renewal_soon"),
    [
        pytest.param(dt.date(2026, 11, 16), "2026-10", True, id="october"),
        # LON-INET-1's contract changes on 2026-11-16: the demo invoice bills the prorated month, and the
        # audit finds only the planted problems (no new false finding); AMS-MPLS-1's renewal notice deadline
        # (2026-10-01) is past by then
        pytest.param(dt.date(2026, 12, 2), "2026-11", False, id="november-with-a-contract-change"),
    ],
)
def test_demo_stage_bills_last_month_with_every_planted_problem(
    tmp_path: Path,
    influx_db: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    today: dt.date,
    period: str,
    renewal_soon: bool,
) -> None:
    url, db = influx_db
    settings = load_settings(REPO / "config" / "linewatch.yaml")
    settings = settings.model_copy(
        update={"influx": settings.influx.model_copy(update={"url": url, "database": db})}
    )
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    with InfluxClient(settings.influx) as client:
        ctx = SimpleNamespace(
            settings=settings,
            run_dir=tmp_path / "run",
            influx=client,
            inventory=inventory,
            stop_event=threading.Event(),
        )
        report = demo_stage(ctx, today=today)
    assert str(report.period) == period
    ym = period.replace("-", "")
    fired = {f.rule.value for f in report.findings}
    # Each planted problem fires on its own line/invoice and nowhere else (docs/billing.md lists them).
    renewal = {("contract_event", "AMS-MPLS-1", "")} if renewal_soon else set()
    assert {(f.rule.value, f.line or f.circuit_id, f.invoice_number) for f in report.findings} == renewal | {
        ("before_install", "PAR-INET-2", f"C{ym[2:]}7781"),
        ("contract_event", "LON-LL-1", ""),
        ("duplicate_charge", "LON-MPLS-1", f"FR{ym}-0001S"),
        ("ghost_circuit", "OBS-DE-99999", f"FR{ym}-0001"),
        ("invoice_arithmetic", "", f"FR{ym}-0001"),
        ("invoice_conflict", "", f"C{ym[2:]}7781"),
        ("late_fee", "", f"FR{ym}-0001"),
        ("month_over_month", "LON-INET-1", ""),
        ("month_over_month", "LON-MPLS-1", ""),
        ("proration_mismatch", "LON-INET-1", f"C{ym[2:]}7781"),
        ("rate_mismatch", "PAR-INET-1", f"FR{ym}-0001"),
        ("sla_credit_owed", "AMS-MPLS-1", ""),
        ("unbilled_line", "LON-LL-1", ""),
        ("usage_mismatch", "FRA-MPLS-1", f"FR{ym}-0001"),
    }
    assert fired == set(PLANTED) - {"quarantine"}
    assert len(report.imports.quarantined) == 2
    # Deutsche Telekom's text PDF is imported and audited like the spreadsheets: due, correct, no finding
    [telekom] = [p for p in report.payments if p.carrier == "Deutsche Telekom"]
    assert (telekom.invoice_number, telekom.amount, telekom.stated_total, telekom.findings) == (
        f"DT-{ym}-5531",
        Decimal("464.10"),
        Decimal("464.10"),
        0,
    )
    exports = tmp_path / "run" / "exports"
    assert (exports / f"billing-{period}.xlsx").is_file() and (
        exports / f"billing-{period}-lines.parquet"
    ).is_file()
    assert f"linewatch billing {period}" in capsys.readouterr().out
    actions = {(p.line, p.action.value) for p in report.proposals}
    assert ("LON-MPLS-1", "terminate") in actions
    # FRA-MPLS-1 runs above 80 % of its burstable commit without bursting past it: paying the (zero) burst is
    # cheaper than the next commit, so no upgrade (issue 9)
    assert ("FRA-MPLS-1", "upgrade") not in actions
