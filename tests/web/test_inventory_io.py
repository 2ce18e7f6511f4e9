"""``linewatch inventory import DIR`` / ``export DIR``: the YAML files and the database are one inventory.

Imports are validated by the consumers' own loaders (linewatch/inventory.py, billing_etl/config.py) as a whole:
one problem anywhere and nothing changes; exports read back to the very objects the files were imported from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from billing_etl.config import ContractsFile
from linewatch.cli import main as linewatch_main
from linewatch.errors import ConfigError
from linewatch.inventory import load_inventory
from linewatch.yamlconf import load_model
from web.audit.models import ObjectChange
from web.inventory.io import export_dir, import_dir, load_export, secret_env_var
from web.inventory.models import Contract, Device, Line

CONFIG = Path(__file__).resolve().parents[2] / "config"
pytestmark = pytest.mark.django_db


def _config_copy(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for name in ("lines.yaml", "contracts.yaml", "carriers.yaml"):
        shutil.copy(CONFIG / name, d / name)
    return d


def test_import_then_export_gives_the_same_validated_objects(tmp_path):
    result = import_dir(CONFIG, user_name="alice")
    assert result.created["line"] == len(load_inventory(CONFIG / "lines.yaml").lines)
    assert set(ObjectChange.objects.values_list("user_name", flat=True)) == {"alice"}
    export_dir(tmp_path / "out", secrets="clear")
    inventory, contracts = load_export(tmp_path / "out")
    want = load_inventory(CONFIG / "lines.yaml")
    assert inventory.devices == want.devices
    for a, b in zip(inventory.lines, want.lines, strict=True):
        assert a == b
    assert inventory == want
    assert contracts.contracts == load_model(CONFIG / "contracts.yaml", ContractsFile)[0].contracts
    assert (tmp_path / "out" / "lines.yaml").stat().st_mode & 0o777 == 0o600


def test_import_of_the_export_changes_nothing(tmp_path):
    import_dir(CONFIG)
    export_dir(tmp_path / "out", secrets="clear")
    rows = ObjectChange.objects.count()
    result = import_dir(tmp_path / "out", user_name="again")
    assert not result.changed, result.summary()
    assert ObjectChange.objects.count() == rows


def test_export_writes_no_secret_by_default(tmp_path, monkeypatch):
    import_dir(CONFIG)
    result = export_dir(tmp_path / "out")
    text = (tmp_path / "out" / "lines.yaml").read_text()
    for device in load_inventory(CONFIG / "lines.yaml").devices:
        assert device.snmp.community.get_secret_value() not in text
        var = secret_env_var(device.name, "community")
        assert "${" + var + "}" in text and var in result.env_vars
        monkeypatch.setenv(var, device.snmp.community.get_secret_value())
    assert not import_dir(tmp_path / "out").changed  # with the variables set, the same inventory


def test_import_updates_and_deletes_to_match(tmp_path):
    import_dir(CONFIG)
    d = _config_copy(tmp_path)
    data = yaml.safe_load((d / "lines.yaml").read_text())
    data["lines"][0]["capacity_bps"] = 123_000_000
    gone = data["lines"].pop()["id"]
    (d / "lines.yaml").write_text(yaml.safe_dump(data))
    contracts = yaml.safe_load((d / "contracts.yaml").read_text())
    contracts["contracts"] = [c for c in contracts["contracts"] if c["line"] != gone]
    (d / "contracts.yaml").write_text(yaml.safe_dump(contracts))
    result = import_dir(d, user_name="bob")
    assert result.updated == {"line": 1} and result.deleted.get("line") == 1, result.summary()
    assert Line.objects.get(name=data["lines"][0]["id"]).capacity_bps == 123_000_000
    assert not Line.objects.filter(name=gone).exists()
    assert ObjectChange.objects.filter(user_name="bob", action="delete", object_repr=gone).exists()


def _big_inventory(n: int) -> dict:
    devices = [{"name": f"r{i}", "address": "127.0.0.1", "snmp": {"version": "2c", "community": f"c{i}"}}
               for i in range(10)]
    lines = [{"id": f"L{i:05d}", "carrier": "Telia", "circuit_id": f"C{i:05d}", "type": "internet",
              "site": "Seoul", "department": "Engineering", "device": f"r{i % 10}", "if_index": i // 10 + 1,
              "capacity_bps": 1_000_000} for i in range(n)]
    return {"devices": devices, "lines": lines}


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_import_of_10000_lines_with_planted_errors_names_each_and_changes_nothing(tmp_path, make_inventory):
    make_inventory(3)
    before = (ObjectChange.objects.count(), Line.objects.count(), Device.objects.count())
    data = _big_inventory(10_000)
    data["lines"][17]["capacity_bps"] = 0  # a value the pydantic model refuses
    data["lines"][4242]["id"] = "L00007"  # duplicate id
    data["lines"][9001]["device"] = "nowhere"  # unknown device
    del data["lines"][9999]["circuit_id"]  # missing field
    (tmp_path / "lines.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "contracts.yaml").write_text(yaml.safe_dump({"contracts": [
        {"line": "L00001", "carrier": "Telia", "currency": "EUR", "mrc": 10},
        {"line": "NO-SUCH-LINE", "carrier": "Telia", "currency": "EUR", "mrc": 10}]}))
    with pytest.raises(ConfigError) as caught:
        import_dir(tmp_path)
    text = (tmp_path / "lines.yaml").read_text()
    got = {(Path(p.file).name, p.line, p.key) for p in caught.value.problems}
    lines_file = str(tmp_path / "lines.yaml")
    expected = {
        ("lines.yaml", None, "lines[17].capacity_bps"),
        ("lines.yaml", None, "lines[4242].id"),
        ("lines.yaml", None, "lines[9001].device"),
        ("lines.yaml", None, "lines[9999].circuit_id"),
        ("contracts.yaml", None, "contracts[1].line"),
    }
    assert {(f, k) for f, _, k in got} == {(f, k) for f, _, k in expected}, caught.value.problems
    for p in caught.value.problems:  # each names its line of the file
        assert p.line is not None, p
        if p.file == lines_file and p.key == "lines[17].capacity_bps":
            assert p.line == _line_of(text, "capacity_bps: 0")
    assert (ObjectChange.objects.count(), Line.objects.count(), Device.objects.count()) == before


def test_import_cli_prints_each_problem_and_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "web.settings")  # removed again after the test
    d = _config_copy(tmp_path)
    text = (d / "lines.yaml").read_text().replace("capacity_bps: 20000000", "capacity_bps: -5", 1)
    (d / "lines.yaml").write_text(text)
    assert linewatch_main(["inventory", "import", str(d), "--user", "carol"]) == 2
    err = capsys.readouterr().err
    assert f"{d / 'lines.yaml'}:{_line_of(text, 'capacity_bps: -5')}" in err and "capacity_bps" in err
    assert not Line.objects.exists() and not Contract.objects.exists() and not ObjectChange.objects.exists()
    (d / "lines.yaml").write_text((CONFIG / "lines.yaml").read_text())
    assert linewatch_main(["inventory", "import", str(d), "--user", "carol"]) == 0
    assert set(ObjectChange.objects.values_list("user_name", flat=True)) == {"carol"}


LAG_AND_PAIR = """\
devices:
  - {name: r1, address: 127.0.0.1, snmp: {version: 2c, community: c1}}
  - {name: r2, address: 127.0.0.1, snmp: {version: 2c, community: c2}}
lines:
  - id: LAG-1
    carrier: Telia
    circuit_id: C-LAG
    type: internet
    site: Seoul
    department: Engineering
    capacity_bps: 2000000000
    members:
      - {device: r1, interface: ge-0/0/1}
      - {device: r1, interface: ge-0/0/2}
  - id: PAIR-1
    carrier: Telia
    circuit_id: C-PAIR
    type: mpls
    site: Seoul
    department: Engineering
    capacity_bps: 100000000
    members:
      - {device: r1, if_index: 7, role: primary}
      - {device: r2, interface: xe-0/0/0, role: backup}
  - id: PLANNED-1
    carrier: Telia
    circuit_id: C-PLAN
    type: internet
    site: Seoul
    department: Engineering
    capacity_bps: 100000000
    status: planned
"""


def test_export_keeps_every_member_of_a_multi_interface_line_not_only_the_primary(tmp_path):
    """The export wrote a line's primary member only: a LAG came back with one port, the collector polled one."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "lines.yaml").write_text(LAG_AND_PAIR)
    want = load_inventory(tmp_path / "in" / "lines.yaml")
    import_dir(tmp_path / "in")
    result = export_dir(tmp_path / "out", secrets="clear")
    assert result.notes == []
    got = load_inventory(tmp_path / "out" / "lines.yaml")
    assert got == want
    assert [len(line.members) for line in got.lines] == [2, 2, 0]
    assert [m.role.value for m in got.lines_by_id["PAIR-1"].members] == ["primary", "backup"]
    rows = ObjectChange.objects.count()
    assert not import_dir(tmp_path / "out").changed  # the round trip is lossless: nothing to change
    assert ObjectChange.objects.count() == rows


def test_import_makes_a_lines_members_exactly_the_files(tmp_path):
    """A member removed from the file is removed from the line, a role change is saved, a kept port keeps its row."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "lines.yaml").write_text(LAG_AND_PAIR)
    import_dir(tmp_path / "in")
    kept = Line.objects.get(name="LAG-1").members.get(interface="ge-0/0/1").pk
    changed = LAG_AND_PAIR.replace("      - {device: r1, interface: ge-0/0/2}\n", "").replace(
        "{device: r1, if_index: 7, role: primary}", "{device: r1, if_index: 7, role: backup}").replace(
        "{device: r2, interface: xe-0/0/0, role: backup}", "{device: r2, interface: xe-0/0/0, role: primary}")
    (tmp_path / "in" / "lines.yaml").write_text(changed)
    result = import_dir(tmp_path / "in")
    assert result.deleted == {"linemember": 1} and result.updated == {"linemember": 2}, result.summary()
    assert list(Line.objects.get(name="LAG-1").members.values_list("pk", flat=True)) == [kept]
    roles = dict(Line.objects.get(name="PAIR-1").members.values_list("if_index", "role"))
    assert roles == {7: "backup", None: "primary"}
