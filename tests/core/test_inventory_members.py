"""A line carried by several interfaces (LAG, primary/backup pair, ports on two routers): ``members`` in lines.yaml.

The single-port form (``device`` + ``interface`` | ``if_index``) stays valid and is one member; every rule names the
file, line and field.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from linewatch.choices import LineMemberRole
from linewatch.errors import ConfigError
from linewatch.inventory import load_inventory

DEVICES = """\
devices:
  - {name: r1, address: 127.0.0.1, snmp: {version: 2c, community: c1}}
  - {name: r2, address: 127.0.0.1, snmp: {version: 2c, community: c2}}
lines:
"""
HEAD = """\
  - id: {id}
    carrier: Telia
    circuit_id: C-{id}
    type: internet
    site: Seoul
    department: Eng
    capacity_bps: 2000000000
"""
LAG = HEAD.format(id="LAG") + """\
    members:
      - {device: r1, interface: ge-0/0/1}
      - {device: r2, if_index: 7}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lines.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_members_form_loads_every_member_with_its_role(tmp_path: Path) -> None:
    pair = HEAD.format(id="PAIR") + """\
    members:
      - {device: r1, interface: ge-0/0/2, role: primary}
      - {device: r1, interface: ge-0/0/3, role: backup}
"""
    spare = HEAD.format(id="SPARE") + """\
    members:
      - {device: r2, interface: xe-0/0/0}
      - {device: r2, interface: xe-0/0/1, role: backup}
"""
    inv = load_inventory(write(tmp_path, DEVICES + LAG + pair + spare))
    lag, pair_line, _ = inv.lines
    assert [(m.device, m.interface_label, m.role) for m in lag.members] == [
        ("r1", "ge-0/0/1", LineMemberRole.MEMBER), ("r2", "ifIndex:7", LineMemberRole.MEMBER)]
    assert lag.devices == ("r1", "r2")
    assert [line.id for line in inv.lines_on("r2")] == ["LAG", "SPARE"]
    assert [(line.id, m.interface_label) for line, m in inv.ports_on("r1")] == [
        ("LAG", "ge-0/0/1"), ("PAIR", "ge-0/0/2"), ("PAIR", "ge-0/0/3")]
    assert pair_line.primary is not None and pair_line.primary.interface == "ge-0/0/2"
    assert lag.tags(lag.members[1]) == {"line": "LAG", "carrier": "Telia", "site": "Seoul", "department": "Eng",
                                        "line_type": "internet", "device": "r2", "interface": "ifIndex:7",
                                        "member_role": "member"}


def test_single_port_form_still_loads_as_one_member(tmp_path: Path) -> None:
    """Existing lines.yaml files (device + interface | if_index) keep working: one member, role member."""
    old = HEAD.format(id="OLD") + "    device: r1\n    interface: ge-0/0/0\n"
    (line,) = load_inventory(write(tmp_path, DEVICES + old)).lines
    assert [(m.device, m.interface, m.if_index, m.role) for m in line.members] == [
        ("r1", "ge-0/0/0", None, LineMemberRole.MEMBER)]
    assert line.tags()["device"] == "r1" and line.tags()["interface"] == "ge-0/0/0"


def test_planned_line_may_have_no_members(tmp_path: Path) -> None:
    planned = HEAD.format(id="NEW") + "    status: planned\n"
    (line,) = load_inventory(write(tmp_path, DEVICES + planned)).lines
    assert line.members == () and line.primary is None and "device" not in line.tags()


BAD = [
    pytest.param(HEAD.format(id="X") + "    device: r1\n    members:\n      - {device: r1, interface: ge-0/0/1}\n",
                 13, "lines[0].device", "device given together with members", id="both-forms"),
    pytest.param(HEAD.format(id="X") + "    interface: ge-0/0/9\n    members:\n      - {device: r1, if_index: 1}\n",
                 13, "lines[0].interface", "interface given together with members", id="both-forms-interface-only"),
    pytest.param(HEAD.format(id="X"), 6, "lines[0]", "needs at least one member", id="active-line-without-port"),
    pytest.param(HEAD.format(id="X") + "    members: []\n", 13, "lines[0].members", "needs at least one member",
                 id="active-line-empty-members"),
    pytest.param(HEAD.format(id="X") + "    members:\n      - {device: r1, interface: ge-0/0/1}\n"
                 "      - {device: r1, interface: ge-0/0/1}\n", 13, "lines[0].members",
                 "duplicate member r1 ge-0/0/1 (members[0] and members[1])", id="duplicate-member"),
    pytest.param(HEAD.format(id="X") + "    members:\n      - {device: r1, interface: ge-0/0/1, role: primary}\n"
                 "      - {device: r1, interface: ge-0/0/2, role: primary}\n", 13, "lines[0].members",
                 "exactly one member with role primary", id="two-primaries"),
    pytest.param(HEAD.format(id="X") + "    members:\n      - {device: r1, interface: ge-0/0/1, role: backup}\n",
                 13, "lines[0].members", "exactly one member with role primary", id="backups-only"),
    pytest.param(HEAD.format(id="X") + "    members:\n      - {device: r1, interface: ge-0/0/1, role: primary}\n"
                 "      - {device: r1, interface: ge-0/0/2}\n", 13, "lines[0].members",
                 "exactly one member with role primary", id="primary-mixed-with-lag-member"),
    pytest.param(HEAD.format(id="X") + "    members:\n      - {device: r1, interface: ge-0/0/1}\n"
                 "      - {device: r9, interface: ge-0/0/2}\n", 15, "lines[0].members[1].device",
                 "unknown device 'r9'", id="member-on-unknown-device"),
    pytest.param(HEAD.format(id="X") + "    members:\n      - {device: r1, interface: ge-0/0/1, if_index: 3}\n",
                 14, "lines[0].members[0]", "exactly one of interface", id="member-with-interface-and-index"),
    pytest.param(HEAD.format(id="X") + "    members:\n      - {device: r1, interface: ge-0/0/1, role: spare}\n",
                 14, "lines[0].members[0].role", "Input should be", id="unknown-role"),
    pytest.param(LAG + HEAD.format(id="Y") + "    members:\n      - {device: r3, interface: ge-0/0/5}\n"
                 "      - {device: r2, if_index: 7}\n", 25, "lines[1].members[1].if_index",
                 "interface ifIndex:7 on r2 already carries line 'LAG'", id="member-port-of-another-line"),
]


@pytest.mark.parametrize(("lines", "line_no", "key", "reason"), BAD)
def test_bad_member_names_file_line_field_and_reason(tmp_path: Path, lines: str, line_no: int, key: str,
                                                     reason: str) -> None:
    devices = DEVICES.replace("lines:\n", "  - {name: r3, address: 127.0.0.1, snmp: {version: 2c, community: c3}}\n"
                                          "lines:\n")
    path = write(tmp_path, devices + lines)
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    matching = [p for p in info.value.problems if reason in p.reason]
    assert matching, f"no problem mentions {reason!r}: {info.value}"
    assert (matching[0].file, matching[0].key, matching[0].line) == (str(path), key, line_no), info.value
