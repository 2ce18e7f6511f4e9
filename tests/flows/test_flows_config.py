"""flows.yaml: strict parsing with line numbers, cross-checks against the inventory, check-config integration."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.flows.config import check_config, load_flows_config
from linewatch.errors import ConfigError
from linewatch.inventory import Inventory
from linewatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "line", "key", "reason"), [
    pytest.param("top_n: 0\n", 1, "top_n", "greater than or equal to 1", id="top-n-zero"),
    pytest.param("interval_s: 60\ntopn: 5\n", 2, "topn", "unknown key", id="typo-is-an-error"),
    pytest.param("local_networks: [10.0.0.0/8, not-a-net]\n", 1, "local_networks", "not an IP network",
                 id="bad-network"),
    pytest.param("exporters:\n  - {address: 192.0.2.1}\n", 2, "exporters[0]", "exactly one of device",
                 id="exporter-without-target"),
    pytest.param("exporters:\n  - {address: router-1, device: r1}\n", 2, "exporters[0].address", "not an IP address",
                 id="exporter-host-name"),
    pytest.param("exporters:\n  - {address: 192.0.2.1, device: nope}\n", 2, "exporters[0].device",
                 "unknown device 'nope'", id="unknown-device"),
    pytest.param("exporters:\n  - {address: 192.0.2.1, device: r1}\n", 2, "exporters[0].if_indexes",
                 "flows carry ifIndex only", id="ifname-line-without-ifindex"),
    pytest.param("exporters:\n  - {address: 192.0.2.1, line: L-NOPE}\n", 2, "exporters[0].line", "unknown line",
                 id="unknown-probe-line"),
    pytest.param("exporters:\n  - {address: 192.0.2.1, device: r1, if_indexes: {ge-0/0/1: 3}}\n", 2,
                 "exporters[0].if_indexes", "maps to both", id="two-lines-on-one-ifindex"),
    pytest.param("exporters:\n  - {address: 127.0.0.1, line: L-PROBE}\n  - {address: 127.0.0.1, line: L-IN}\n", 3,
                 "exporters[1].address", "already listed", id="duplicate-exporter"),
])
def test_bad_flows_yaml_is_reported_with_file_line_key_and_reason(tmp_path: Path, inventory: Inventory, text: str,
                                                                   line: int, key: str, reason: str) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_flows_config(path, inventory)
    assert any(p.file == str(path) and p.line == line and p.key == key and reason in p.reason
               for p in err.value.problems), err.value.problems


def test_the_shipped_demo_config_is_valid() -> None:
    settings = load_settings(REPO / "config" / "linewatch.yaml")
    assert check_config(settings) == []


def test_check_config_reports_problems_of_flows_yaml(tmp_path: Path) -> None:
    (tmp_path / "lines.yaml").write_text((REPO / "config" / "lines.yaml").read_text())
    (tmp_path / "flows.yaml").write_text("exporters:\n  - {address: 127.0.0.1, device: ghost}\n")
    (tmp_path / "linewatch.yaml").write_text("inventory_path: lines.yaml\n")
    problems = check_config(load_settings(tmp_path / "linewatch.yaml"))
    assert [(p.line, p.key) for p in problems] == [(2, "exporters[0].device")]
