"""Capacity versions (``capacity_changes``) and planned maintenance (``maintenance:``) in lines.yaml.

A line's capacity is the one as installed until its first change, then each change's from its ``effective`` moment
on; a planned maintenance window names lines and an aware ``[starts, ends)``. Every bad entry is reported with the
file, line and field (also by ``linewatch check-config``), and the application's JSON document obeys the same rules.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from linewatch.cli import main
from linewatch.errors import ConfigError
from linewatch.inventory import Inventory, Line, load_inventory
from linewatch.inventory_source import inventory_from_document

HEAD = """\
devices:
  - {name: r1, address: 127.0.0.1, snmp: {version: 2c, community: c1}}
lines:
  - id: L1
    carrier: Telia
    circuit_id: C-1
    type: internet
    site: Seoul
    department: Eng
    device: r1
    interface: ge-0/0/0
    capacity_bps: 100000000
"""
CHANGES = """\
    capacity_changes:
      - {effective: 2026-11-16T09:00:00+09:00, capacity_bps: 200000000}
      - {effective: 2026-12-01T00:00:00Z, capacity_bps: 300000000}
"""
WINDOW = """\
maintenance:
  - id: MW-12
    lines: [L1]
    starts: 2026-12-03T01:00:00+09:00
    ends: 2026-12-03T05:00:00+09:00
    carrier_reference: DT-CHG-99812
    description: fibre work
"""
T1 = dt.datetime(2026, 11, 16, 0, 0, tzinfo=dt.UTC).timestamp()  # 09:00 +09:00
T2 = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC).timestamp()
MW_STARTS = dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC).timestamp()
MW_ENDS = dt.datetime(2026, 12, 2, 20, 0, tzinfo=dt.UTC).timestamp()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lines.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def line(tmp_path: Path) -> Line:
    return load_inventory(write(tmp_path, HEAD + CHANGES)).lines[0]


@pytest.mark.parametrize(("t_s", "capacity_bps"), [
    (T1 - 86400 * 365, 100_000_000),
    (T1 - 0.001, 100_000_000),
    (T1, 200_000_000),
    (T1 + 1, 200_000_000),
    (T2 - 1, 200_000_000),
    (T2, 300_000_000),
    (T2 + 86400 * 3650, 300_000_000),
], ids=["long-before-first", "just-before-first", "exactly-at-first", "after-first", "just-before-last",
        "exactly-at-last", "long-after-last"])
def test_capacity_at_is_the_last_change_not_after_the_moment(line: Line, t_s: float, capacity_bps: int) -> None:
    assert line.capacity_at(t_s) == capacity_bps


def test_a_line_without_changes_has_its_installed_capacity_always(tmp_path: Path) -> None:
    plain = load_inventory(write(tmp_path, HEAD)).lines[0]
    assert plain.capacity_changes == ()
    assert plain.capacity_at(0) == plain.capacity_at(T2 * 2) == 100_000_000
    assert plain.capacity_periods(0, 10) == [(0, 10, 100_000_000)]


@pytest.mark.parametrize(("start_s", "end_s", "periods"), [
    (T1 - 60, T1 + 60, [(T1 - 60, T1, 100_000_000), (T1, T1 + 60, 200_000_000)]),
    (T1, T1 + 60, [(T1, T1 + 60, 200_000_000)]),
    (T1 - 60, T1, [(T1 - 60, T1, 100_000_000)]),
    (T1 - 60, T2 + 60, [(T1 - 60, T1, 100_000_000), (T1, T2, 200_000_000), (T2, T2 + 60, 300_000_000)]),
    (T2 + 1, T2 + 2, [(T2 + 1, T2 + 2, 300_000_000)]),
    (T1, T1, []),
], ids=["across-first", "starting-at-change", "ending-at-change", "across-both", "after-last", "empty"])
def test_capacity_periods_cut_the_range_at_each_change(line: Line, start_s: float, end_s: float,
                                                        periods: list[tuple[float, float, int]]) -> None:
    assert line.capacity_periods(start_s, end_s) == periods


BAD = [
    ("naive-effective", HEAD + "    capacity_changes:\n      - {effective: 2026-11-16T09:00:00, capacity_bps: 2}\n",
     14, "lines[0].capacity_changes[0].effective", "without UTC offset is ambiguous"),
    ("date-only-effective", HEAD + "    capacity_changes:\n      - {effective: 2026-11-16, capacity_bps: 2}\n",
     14, "lines[0].capacity_changes[0].effective", "expected a date and time with its UTC offset"),
    ("not-increasing", HEAD + CHANGES.replace("2026-12-01T00:00:00Z", "2026-11-16T00:00:00Z"), 15,
     "lines[0].capacity_changes[1].effective", "is not after capacity_changes[0].effective"),
    ("zero-capacity", HEAD + "    capacity_changes:\n      - {effective: 2026-11-16T09:00:00Z, capacity_bps: 0}\n",
     14, "lines[0].capacity_changes[0].capacity_bps", "greater than 0"),
    ("missing-capacity", HEAD + "    capacity_changes:\n      - {effective: 2026-11-16T09:00:00Z}\n",
     14, "lines[0].capacity_changes[0].capacity_bps", "Field required"),
    ("unknown-key-in-change", HEAD + "    capacity_changes:\n      - {effective: 2026-11-16T09:00:00Z, "
     "capacity_bps: 2, mrc: 5}\n", 14, "lines[0].capacity_changes[0].mrc", "unknown key"),
    ("maintenance-unknown-line", HEAD + WINDOW.replace("[L1]", "[L1, L9]"), 15, "maintenance[0].lines[1]",
     "unknown line 'L9'"),
    ("maintenance-ends-before-starts", HEAD + WINDOW.replace("05:00:00+09:00", "00:30:00+09:00"), 14,
     "maintenance[0]", "ends 2026-12-03T00:30:00+09:00 is not after starts"),
    ("maintenance-naive-starts", HEAD + WINDOW.replace("01:00:00+09:00", "01:00:00"), 16, "maintenance[0].starts",
     "without UTC offset"),
    ("maintenance-duplicate-id", HEAD + WINDOW + WINDOW.removeprefix("maintenance:\n"), 20, "maintenance[1].id",
     "duplicate maintenance id 'MW-12' (first at maintenance[0])"),
    ("maintenance-no-lines", HEAD + WINDOW.replace("[L1]", "[]"), 15, "maintenance[0].lines", "at least 1 item"),
    ("maintenance-line-twice", HEAD + WINDOW.replace("[L1]", "[L1, L1]"), 15, "maintenance[0].lines",
     "line L1 listed more than once"),
]


@pytest.mark.parametrize(("text", "line_no", "key", "reason"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_entry_names_file_line_field_and_reason(tmp_path: Path, text: str, line_no: int, key: str,
                                                    reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    matching = [p for p in info.value.problems if reason in p.reason]
    assert matching, f"no problem mentions {reason!r}: {info.value}"
    assert (matching[0].file, matching[0].line, matching[0].key) == (str(path), line_no, key)


def test_maintenance_naming_a_line_with_errors_of_its_own_is_not_reported_again(tmp_path: Path) -> None:
    text = HEAD.replace("100000000", "0") + WINDOW
    with pytest.raises(ConfigError) as info:
        load_inventory(write(tmp_path, text))
    assert [p.key for p in info.value.problems] == ["lines[0].capacity_bps"]


def test_check_config_reports_version_errors_with_file_and_line(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    write(tmp_path, HEAD + CHANGES.replace("2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z")
          + WINDOW.replace("[L1]", "[L7]"))
    cfg = tmp_path / "linewatch.yaml"
    cfg.write_text("influx: {url: http://127.0.0.1:1}\ninventory_path: lines.yaml\n")
    assert main(["-c", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'lines.yaml'}:15: lines[0].capacity_changes[1].effective: effective 2026-11-01" in err
    assert f"{tmp_path / 'lines.yaml'}:18: maintenance[0].lines[0]: unknown line 'L7'" in err


def test_maintenance_at_gives_each_line_its_active_window(tmp_path: Path) -> None:
    other = WINDOW.removeprefix("maintenance:\n").replace("MW-12", "MW-13").replace("    carrier_reference: DT-CHG-99812\n", "")
    inv = load_inventory(write(tmp_path, HEAD + WINDOW + other.replace("2026-12-03T01", "2026-12-03T04")
                               .replace("2026-12-03T05", "2026-12-03T07")))
    assert inv.maintenance_at(MW_STARTS - 1) == {}
    assert {k: w.id for k, w in inv.maintenance_at(MW_STARTS).items()} == {"L1": "MW-12"}
    assert inv.maintenance_at(MW_STARTS)["L1"].reason == "planned maintenance MW-12 (DT-CHG-99812)"
    assert {k: w.id for k, w in inv.maintenance_at(MW_ENDS - 1).items()} == {"L1": "MW-12"}  # overlap: first
    assert {k: w.id for k, w in inv.maintenance_at(MW_ENDS).items()} == {"L1": "MW-13"}
    assert inv.maintenance_at(MW_ENDS)["L1"].reason == "planned maintenance MW-13"
    assert inv.maintenance_at(MW_ENDS + 2 * 3600) == {}


def test_the_application_document_obeys_the_same_rules(tmp_path: Path) -> None:
    """``/api/inventory.json`` carries the same shapes (ISO strings instead of YAML timestamps)."""
    doc = {
        "devices": [{"name": "r1", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "c1"}}],
        "lines": [{"id": "L1", "carrier": "Telia", "circuit_id": "C-1", "type": "internet", "site": "Seoul",
                   "department": "Eng", "device": "r1", "interface": "ge-0/0/0", "capacity_bps": 100_000_000,
                   "capacity_changes": [{"effective": "2026-11-16T09:00:00+09:00", "capacity_bps": 200_000_000}]}],
        "maintenance": [{"id": "MW-12", "lines": ["L1"], "starts": "2026-12-03T01:00:00+09:00",
                         "ends": "2026-12-03T05:00:00+09:00", "carrier_reference": "DT-CHG-99812"}],
    }
    inv: Inventory = inventory_from_document(doc, origin="http://app/api/inventory.json")
    assert inv.lines[0].capacity_at(T1) == 200_000_000
    assert inv.maintenance_at(MW_STARTS)["L1"].id == "MW-12"
    doc["maintenance"][0]["lines"] = ["L2"]
    with pytest.raises(ConfigError, match=r"maintenance\[0\]\.lines\[0\]: unknown line 'L2'"):
        inventory_from_document(doc, origin="http://app/api/inventory.json")
