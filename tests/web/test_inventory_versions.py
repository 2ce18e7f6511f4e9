"""Versions of a line's capacity and of a contract's terms, and planned maintenance: validated by the core's and
the billing ETL's own pydantic models (one rule set), named on the offending field, and carried by the YAML
export/import and the collectors' inventory document in the shapes those models read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_etl.config import ContractsFile
from linewatch.errors import ConfigError
from linewatch.inventory import Inventory, load_inventory
from web.audit.models import ObjectChange
from web.inventory.io import export_dir, import_dir, inventory_data, load_export
from web.inventory.models import CapacityChange, Contract, ContractChange, PlannedMaintenance

pytestmark = pytest.mark.django_db

KST = dt.timezone(dt.timedelta(hours=9))
T0 = dt.datetime(2026, 11, 16, 9, 0, tzinfo=KST)


def _errors(obj: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        obj.full_clean()
    return info.value.message_dict


@pytest.fixture
def line(make_inventory: Any) -> Any:
    return make_inventory(2)["lines"][0]


@pytest.fixture
def contract(line: Any) -> Contract:
    return Contract.objects.create(line=line, mrc=Decimal(500), term_start=dt.date(2025, 1, 1), term_months=24)


# -- capacity changes ------------------------------------------------------------------------------------------


def test_capacity_at_is_the_last_change_effective_by_then_else_the_installed_capacity(line):
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=200_000_000)
    CapacityChange.objects.create(line=line, effective=T0 + dt.timedelta(days=30), capacity_bps=50_000_000)
    installed = line.capacity_bps
    cases = [(T0 - dt.timedelta(seconds=1), installed), (T0, 200_000_000),
             (T0 + dt.timedelta(days=29), 200_000_000), (T0 + dt.timedelta(days=30), 50_000_000)]
    assert [line.capacity_at(moment) for moment, _ in cases] == [want for _, want in cases]


def test_capacity_at_agrees_with_the_cores_reading_of_the_exported_line(line):
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=200_000_000)
    core = Inventory.model_validate(inventory_data()).lines_by_id[line.name]
    for moment in (T0 - dt.timedelta(hours=1), T0, T0 + dt.timedelta(hours=1)):
        assert core.capacity_at(moment.timestamp()) == line.capacity_at(moment)


CAPACITY_CASES = [
    pytest.param({"capacity_bps": 0}, "capacity_bps", "greater than 0", id="zero-capacity"),
]


@pytest.mark.parametrize(("values", "field", "reason"), CAPACITY_CASES)
def test_capacity_change_validation_names_the_field(line, values, field, reason):
    errors = _errors(CapacityChange(line=line, **({"effective": T0, "capacity_bps": 1} | values)))
    assert reason in " ".join(errors[field]), errors


def test_capacity_change_without_a_moment_is_refused_on_effective_only(line):
    errors = _errors(CapacityChange(line=line, capacity_bps=1))
    assert list(errors) == ["effective"]


def test_two_capacity_changes_at_one_moment_are_a_hard_constraint(line):
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=1)
    errors = _errors(CapacityChange(line=line, effective=T0.astimezone(dt.UTC), capacity_bps=2))
    assert "is not after" in " ".join(errors["effective"]), errors  # the same moment, whatever its offset
    with pytest.raises(IntegrityError), transaction.atomic():
        CapacityChange.objects.create(line=line, effective=T0, capacity_bps=2)


def test_a_line_with_capacity_changes_still_validates_as_the_core_line(line):
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=200_000_000)
    line.full_clean()
    assert line.as_config()["capacity_changes"] == [{"effective": T0.astimezone(dt.UTC).isoformat(),
                                                     "capacity_bps": 200_000_000}]


# -- contract changes and the early-termination fee ------------------------------------------------------------


CONTRACT_CHANGE_CASES = [
    pytest.param({}, "effective", "sets at least one of", id="changes-nothing"),
    pytest.param({"mrc": Decimal(-1)}, "mrc", "greater than or equal to 0", id="negative-mrc"),
    pytest.param({"commit_bps": 0}, "commit_bps", "greater than 0", id="zero-commit"),
    pytest.param({"price_per_mbps": Decimal(9)}, "price_per_mbps", "term of burstable", id="burst-price-on-flat"),
]


@pytest.mark.parametrize(("values", "field", "reason"), CONTRACT_CHANGE_CASES)
def test_contract_change_validation_names_the_field(contract, values, field, reason):
    errors = _errors(ContractChange(contract=contract, effective=dt.date(2026, 11, 16), **values))
    assert field in errors, errors
    assert reason in " ".join(errors[field]), errors


def test_contract_change_terms_apply_from_their_day_in_the_etls_reading(contract):
    ContractChange.objects.create(contract=contract, effective=dt.date(2026, 11, 16), mrc=Decimal(800))
    contract.full_clean()
    terms = ContractsFile.model_validate({"contracts": [contract.as_config()]}).contracts[0]
    assert terms.mrc_on(dt.date(2026, 11, 15)) == 500
    assert terms.mrc_on(dt.date(2026, 11, 16)) == 800


def test_early_termination_pct_is_a_term_of_the_term_and_checked_by_the_etl(contract):
    contract.early_termination_pct = Decimal(50)
    assert contract.as_config()["term"]["early_termination_pct"] == Decimal(50)
    contract.early_termination_pct = Decimal(101)
    assert "less than or equal to 100" in " ".join(_errors(contract)["early_termination_pct"])


# -- planned maintenance ---------------------------------------------------------------------------------------


def _window(line: Any, **values: Any) -> PlannedMaintenance:
    window = PlannedMaintenance.objects.create(**({"carrier": line.carrier, "starts": T0,
                                                   "ends": T0 + dt.timedelta(hours=4),
                                                   "carrier_reference": "DT-CHG-4471"} | values))
    window.lines.set([line])
    return window


def test_maintenance_ending_before_it_starts_is_refused_on_ends(line):
    window = PlannedMaintenance(carrier=line.carrier, starts=T0, ends=T0)
    assert "is not after starts" in " ".join(_errors(window)["ends"])


def test_maintenance_needs_a_line_and_only_lines_of_its_carrier(make_inventory):
    inv = make_inventory(2)
    window = PlannedMaintenance(carrier=inv["carriers"][0], starts=T0, ends=T0 + dt.timedelta(hours=1))
    assert window.lines_problem([]).message_dict == {"lines": ["give at least one line"]}
    other = inv["lines"][1]
    assert window.lines_problem([other]).message_dict == {
        "lines": [f"{other.name}: not a line of carrier {inv['carriers'][0]}"]}
    assert window.lines_problem([inv["lines"][0]]) is None


def test_maintenance_changes_are_logged_with_their_lines(make_inventory):
    inv = make_inventory(3)
    first, third = inv["lines"][0], inv["lines"][2]  # both of carrier 0
    window = _window(first)
    window.lines.set([first, third])
    window.lines.remove(first)
    rows = ObjectChange.objects.filter(changed_object_id=window.pk, object_repr=str(window)).order_by("pk")
    assert [row.diff.get("lines") for row in rows] == [
        None, [[], [first.name]], [[first.name], sorted([first.name, third.name])], [sorted([first.name, third.name]), [third.name]]]


# -- export, import, the collectors' document ------------------------------------------------------------------


def test_yaml_round_trip_keeps_capacity_changes_contract_changes_and_maintenance(tmp_path: Path, line, contract):
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=200_000_000)
    ContractChange.objects.create(contract=contract, effective=dt.date(2026, 11, 16), mrc=Decimal(800),
                                  commit_bps=200_000_000)
    contract.early_termination_pct = Decimal(50)
    contract.save()
    window = _window(line, description="fibre work")
    export_dir(tmp_path / "out", secrets="clear")
    inventory, contracts = load_export(tmp_path / "out")
    exported = inventory.lines_by_id[line.name]
    assert [(c.effective, c.capacity_bps) for c in exported.capacity_changes] == [(T0, 200_000_000)]
    assert [(w.id, w.lines, w.starts, w.carrier_reference) for w in inventory.maintenance] == [
        (window.key, (line.name,), T0, "DT-CHG-4471")]
    exported_contract = contracts.contracts[0]
    assert exported_contract.term.early_termination_pct == 50
    assert [(c.effective, c.mrc, c.commit_bps) for c in exported_contract.changes] == [
        (dt.date(2026, 11, 16), 800, 200_000_000)]
    rows = ObjectChange.objects.count()
    assert not import_dir(tmp_path / "out").changed  # the export of the database is the database
    assert ObjectChange.objects.count() == rows


def test_import_makes_versions_and_windows_exactly_the_files(tmp_path: Path, line, contract):
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=200_000_000)
    window = _window(line)
    export_dir(tmp_path / "out", secrets="clear")
    lines_yaml = tmp_path / "out" / "lines.yaml"
    data = yaml.safe_load(lines_yaml.read_text())
    entry = next(e for e in data["lines"] if e["id"] == line.name)
    entry["capacity_changes"] = [{"effective": "2026-12-01T00:00:00+09:00", "capacity_bps": 300_000_000}]
    data["maintenance"][0]["ends"] = "2026-11-16T15:00:00+09:00"
    data["maintenance"].append({"id": "MW-NEW", "lines": [line.name], "starts": "2027-01-05T01:00:00+09:00",
                                "ends": "2027-01-05T03:00:00+09:00"})
    lines_yaml.write_text(yaml.safe_dump(data))
    contracts_yaml = tmp_path / "out" / "contracts.yaml"
    cdata = yaml.safe_load(contracts_yaml.read_text())
    cdata["contracts"][0]["changes"] = [{"effective": "2027-01-01", "mrc": 900}]
    contracts_yaml.write_text(yaml.safe_dump(cdata))
    result = import_dir(tmp_path / "out")
    assert result.deleted["capacitychange"] == 1 and result.created["capacitychange"] == 1
    assert [(c.effective, c.capacity_bps) for c in line.capacity_changes.all()] == [
        (dt.datetime(2026, 11, 30, 15, tzinfo=dt.UTC), 300_000_000)]
    window.refresh_from_db()
    assert window.ends == dt.datetime(2026, 11, 16, 6, tzinfo=dt.UTC)
    new = PlannedMaintenance.objects.exclude(pk=window.pk).get()
    assert list(new.lines.all()) == [line] and new.carrier == line.carrier
    assert [(c.effective, c.mrc) for c in contract.changes.all()] == [(dt.date(2027, 1, 1), 900)]


def test_import_names_a_naive_moment_and_an_unknown_maintenance_line(tmp_path: Path, line):
    export_dir(tmp_path / "out", secrets="clear")
    lines_yaml = tmp_path / "out" / "lines.yaml"
    data = yaml.safe_load(lines_yaml.read_text())
    data["lines"][0]["capacity_changes"] = [{"effective": "2026-12-01T00:00:00", "capacity_bps": 1}]
    data["maintenance"] = [{"id": "MW-1", "lines": ["NO-SUCH-LINE"], "starts": "2027-01-05T01:00:00+09:00",
                            "ends": "2027-01-05T03:00:00+09:00"}]
    lines_yaml.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        import_dir(tmp_path / "out")
    text = str(info.value)
    assert "capacity_changes" in text and "without UTC offset" in text
    assert "unknown line 'NO-SUCH-LINE'" in text
    assert not CapacityChange.objects.exists()


def test_inventory_document_validates_with_the_core_and_keeps_only_recent_windows(line):
    now = timezone.now()
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=200_000_000)
    recent = _window(line, starts=now - dt.timedelta(hours=30), ends=now - dt.timedelta(hours=20))
    active = _window(line, starts=now - dt.timedelta(hours=1), ends=now + dt.timedelta(hours=3))
    _window(line, starts=now - dt.timedelta(days=9), ends=now - dt.timedelta(days=8))  # over more than a day ago
    data = inventory_data(maintenance_since=now - dt.timedelta(days=1))
    inventory = Inventory.model_validate(data)
    assert [w.id for w in inventory.maintenance] == [recent.key, active.key]
    assert inventory.maintenance_at(now.timestamp())[line.name].reason == f"planned maintenance {active.key} (DT-CHG-4471)"
    assert inventory.lines_by_id[line.name].capacity_changes[0].capacity_bps == 200_000_000


def test_exported_lines_yaml_loads_with_the_cores_loader(tmp_path: Path, line):
    CapacityChange.objects.create(line=line, effective=T0, capacity_bps=200_000_000)
    _window(line)
    export_dir(tmp_path / "out", secrets="clear")
    assert load_inventory(tmp_path / "out" / "lines.yaml").maintenance[0].lines == (line.name,)


def test_inventory_document_query_count_is_constant_in_the_number_of_changes_and_windows(make_inventory):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    inv = make_inventory(6)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            inventory_data()
        return len(ctx.captured_queries)

    few = queries()
    for k, line in enumerate(inv["lines"]):
        for n in range(3):
            CapacityChange.objects.create(line=line, effective=T0 + dt.timedelta(days=n), capacity_bps=(k + 1) * (n + 1))
        _window(line, starts=T0 + dt.timedelta(days=k), ends=T0 + dt.timedelta(days=k, hours=2))
    assert queries() == few == 6
