"""Configuration: strict parsing, located errors, `linewatch check-config`, secrets never printed."""

from __future__ import annotations

import logging
import shutil
import textwrap
from pathlib import Path

import pytest

from linewatch.cli import main
from linewatch.errors import ConfigError
from linewatch.inventory import load_inventory
from linewatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
SECRETS = ("s3cret-community", "authkey-very-secret", "privkey-very-secret", "influx-pass-xyz", "influx-token-xyz")

DEVICE = """\
devices:
  - name: r1
    address: 127.0.0.1
    snmp: {version: 2c, community: s3cret-community}
"""
LINE = """\
  - id: L1
    carrier: Telia
    circuit_id: C-1
    type: internet
    site: Frankfurt
    department: Eng
    device: r1
    interface: ge-0/0/0
    capacity_bps: 100000000
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


BAD_INVENTORIES = [
    ("unknown-device", DEVICE + "lines:\n" + LINE.replace("device: r1", "device: r9"), 12, "lines[0].device",
     "unknown device 'r9'"),
    ("duplicate-line-id", DEVICE + "lines:\n" + LINE + LINE.replace("C-1", "C-2").replace("ge-0/0/0", "ge-0/0/1"),
     15, "lines[1].id", "duplicate line id 'L1'"),
    ("capacity-zero", DEVICE + "lines:\n" + LINE.replace("100000000", "0"), 14, "lines[0].capacity_bps",
     "greater than 0"),
    ("capacity-negative", DEVICE + "lines:\n" + LINE.replace("100000000", "-5"), 14, "lines[0].capacity_bps",
     "greater than 0"),
    ("v3-user-without-keys",
     "devices:\n  - name: r1\n    address: 127.0.0.1\n    snmp: {version: 3, user: mon}\nlines: []\n", 4,
     "devices[0].snmp", "needs auth_protocol and auth_key"),
    ("v3-authpriv-without-priv-key",
     "devices:\n  - name: r1\n    address: 127.0.0.1\n    snmp:\n      version: 3\n      user: mon\n"
     "      auth_protocol: SHA\n      auth_key: authkey-very-secret\n      priv_protocol: AES-128\nlines: []\n", 4,
     "devices[0].snmp", "needs priv_protocol and priv_key"),
    ("v3-unknown-auth-protocol",
     "devices:\n  - name: r1\n    address: 127.0.0.1\n    snmp:\n      version: 3\n      user: mon\n"
     "      auth_protocol: SHA-999\n      auth_key: authkey-very-secret\n      priv_protocol: AES-128\n"
     "      priv_key: privkey-very-secret\nlines: []\n", 7, "devices[0].snmp.auth_protocol", "Input should be"),
    ("termination-before-install", DEVICE + "lines:\n" + LINE + "    install_date: 2024-05-01\n"
     "    termination_date: 2024-01-01\n", 6, "lines[0]", "termination_date 2024-01-01 is before install_date"),
    ("unknown-key", DEVICE + "lines:\n" + LINE + "    capacity_mbps: 100\n", 15, "lines[0].capacity_mbps",
     "unknown key"),
    ("interface-and-index-both", DEVICE + "lines:\n" + LINE + "    if_index: 4\n", 6, "lines[0]",
     "exactly one of interface"),
    ("unknown-status", DEVICE + "lines:\n" + LINE + "    status: live\n", 15, "lines[0].status", "Input should be"),
    ("duplicate-yaml-key", DEVICE + "lines:\n" + LINE + "    carrier: Colt\n", 15, "lines[0].carrier",
     "duplicate key"),
    ("two-lines-on-one-port", DEVICE + "lines:\n" + LINE + LINE.replace("L1", "L2").replace("C-1", "C-2"), 22,
     "lines[1].interface", "already carries line 'L1'"),
    ("invalid-yaml", "devices: [\n  - name: r1\n", 2, "", "invalid YAML"),
]


@pytest.mark.parametrize(("text", "line", "key", "reason"), [c[1:] for c in BAD_INVENTORIES],
                         ids=[c[0] for c in BAD_INVENTORIES])
def test_bad_inventory_names_file_line_key_and_reason(tmp_path: Path, text: str, line: int, key: str,
                                                      reason: str) -> None:
    path = write(tmp_path, "lines.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    matching = [p for p in info.value.problems if reason in p.reason]
    assert matching, f"no problem mentions {reason!r}: {info.value}"
    assert matching[0].file == str(path)
    assert matching[0].key == key
    assert matching[0].line == line
    assert not any(s in str(info.value) for s in SECRETS)


def test_check_config_reports_every_problem_and_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write(tmp_path, "lines.yaml", DEVICE + "lines:\n" + LINE.replace("device: r1", "device: r9")
          + LINE.replace("L1", "L2").replace("C-1", "C-2").replace("100000000", "0"))
    cfg = write(tmp_path, "linewatch.yaml", "influx: {url: http://127.0.0.1:1}\ninventory_path: lines.yaml\n")
    assert main(["-c", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'lines.yaml'}:12: lines[0].device: unknown device 'r9'" in err
    assert "lines[1].capacity_bps" in err
    assert "problem(s) found" in err


@pytest.mark.parametrize(("text", "fragment"), [
    ("influx: {url: ftp://x}\n", "influx.url"),
    ("influx: {urll: http://x}\n", "influx.urll: unknown key"),
    ("collector: {interval_s: 0}\n", "collector.interval_s"),
    ("bogus: 1\n", "bogus: unknown key"),
    ("- a\n- b\n", "expected a mapping"),
], ids=["bad-url-scheme", "misspelt-key", "zero-interval", "unknown-top-level", "not-a-mapping"])
def test_bad_settings_file(tmp_path: Path, text: str, fragment: str, capsys: pytest.CaptureFixture) -> None:
    cfg = write(tmp_path, "linewatch.yaml", text)
    assert main(["-c", str(cfg), "check-config"]) == 2
    assert fragment in capsys.readouterr().err


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path, "linewatch.yaml", "influx: {url: http://127.0.0.1:1, database: fromfile}\n")
    monkeypatch.setenv("LINEWATCH_INFLUX__DATABASE", "fromenv")
    settings = load_settings(cfg)
    assert settings.influx.database == "fromenv"
    assert settings.influx.url == "http://127.0.0.1:1"
    assert settings.resolve(settings.inventory_path) == tmp_path / "lines.yaml"


def test_no_secret_appears_in_check_config_output_or_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "lines.yaml", DEVICE + "  - name: r2\n    address: 127.0.0.1\n    snmp:\n      version: 3\n"
          "      user: mon\n      auth_protocol: SHA-256\n      auth_key: authkey-very-secret\n"
          "      priv_protocol: AES-256\n      priv_key: privkey-very-secret\nlines:\n" + LINE)
    cfg = write(tmp_path, "linewatch.yaml", "influx: {url: http://127.0.0.1:1, username: lw, password: influx-pass-xyz}\n"
                "inventory_path: lines.yaml\n")
    caplog.set_level(logging.DEBUG)
    assert main(["-vv", "-c", str(cfg), "check-config", "--show"]) == 0
    settings = load_settings(cfg)
    inv = load_inventory(tmp_path / "lines.yaml")
    monkeypatch.setenv("LINEWATCH_INFLUX__TOKEN", "influx-token-xyz")
    monkeypatch.setenv("LINEWATCH_INFLUX__USERNAME", "")
    out = capsys.readouterr()
    dumped = "\n".join([out.out, out.err, caplog.text, repr(settings), str(settings), repr(inv), str(inv),
                        inv.model_dump_json(), settings.model_dump_json()])
    for secret in SECRETS:
        assert secret not in dumped, f"secret {secret!r} leaked"
    assert "configuration OK" in out.out


def test_shipped_demo_configuration_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The files the README and `make run` use must pass check-config."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    assert main(["-c", str(tmp_path / "config" / "linewatch.yaml"), "check-config"]) == 0, capsys.readouterr().err


def test_snmp_secrets_may_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LW_TEST_COMMUNITY", "s3cret-community")
    path = write(tmp_path, "lines.yaml", DEVICE.replace("s3cret-community", "'${LW_TEST_COMMUNITY}'") + "lines: []\n")
    inv = load_inventory(path)
    assert inv.devices[0].snmp.community.get_secret_value() == "s3cret-community"
    monkeypatch.delenv("LW_TEST_COMMUNITY")
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert "environment variable LW_TEST_COMMUNITY is not set" in str(info.value)
    assert "devices[0].snmp.community" in str(info.value)
