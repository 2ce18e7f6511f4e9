"""`linewatch collect --once` against net-snmp's real snmpd: v2c and SNMPv3 authPriv, and wrong v3 keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from linewatch.cli import main


def write_config(tmp: Path, snmpd, influx_url: str, db: str, *, wrong: str) -> Path:  # noqa: ANN001
    u1, u2 = snmpd.user("lwsha"), snmpd.user("lwsha256")

    def v3(u, auth_key: str, priv_key: str) -> str:  # noqa: ANN001
        return (f"{{version: 3, user: {u.user}, auth_protocol: {u.auth_protocol.value}, auth_key: '{auth_key}', "
                f"priv_protocol: {u.priv_protocol.value}, priv_key: '{priv_key}'}}")

    bad = v3(u1, "wrong-auth-key-1", u1.priv_key) if wrong == "auth" else v3(u1, u1.auth_key, "wrong-priv-key-1")
    devices = {
        "v2c": f"{{version: 2c, community: {snmpd.community}}}",
        "v3-sha": v3(u1, u1.auth_key, u1.priv_key),
        "v3-sha256-aes256": v3(u2, u2.auth_key, u2.priv_key),
        "v3-wrong": bad,
    }
    lines = ["devices:"]
    for name, snmp in devices.items():
        lines += [f"  - name: {name}", "    address: 127.0.0.1", f"    port: {snmpd.port}", f"    snmp: {snmp}",
                  "    timeout_s: 4", "    retries: 0"]  # generous: the machine may be loaded
    lines.append("lines:")
    for i, name in enumerate(devices):
        lines += [f"  - id: L-{name}", "    carrier: Telia", f"    circuit_id: C{i}", "    type: internet",
                  "    site: Lab", "    department: Eng", f"    device: {name}", "    interface: lo",
                  "    capacity_bps: 1000000"]
    (tmp / "lines.yaml").write_text("\n".join(lines) + "\n")
    cfg = tmp / "linewatch.yaml"
    cfg.write_text(f"influx: {{url: '{influx_url}', database: {db}, spool: {{path: spool}}}}\n"
                   "collector: {state_path: state.json}\ninventory_path: lines.yaml\n")
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize("wrong", ["auth", "priv"], ids=["wrong-auth-key", "wrong-priv-key"])
def test_collect_once_polls_v2c_and_v3_and_names_the_device_with_wrong_keys(
        tmp_path: Path, snmpd, influx_db: tuple[str, str], capsys: pytest.CaptureFixture,  # noqa: ANN001
        wrong: str) -> None:
    url, db = influx_db
    cfg = write_config(tmp_path, snmpd, url, db, wrong=wrong)
    assert main(["-c", str(cfg), "collect", "--once"]) == 1, "a failed device makes the exit status non-zero"
    out = capsys.readouterr()
    table = {row.split()[0]: row for row in out.out.splitlines() if row.startswith("L-")}
    for ok in ("v2c", "v3-sha", "v3-sha256-aes256"):
        assert "first sample" in table[f"L-{ok}"], table
    assert "no data" in table["L-v3-wrong"]
    failed = out.out.splitlines()[-1]
    assert failed.startswith("3/4 devices ok")
    assert "v3-wrong" in failed
    if wrong == "auth":
        assert "authentication" in failed.lower()
    assert "wrong-auth-key-1" not in out.out + out.err and "wrong-priv-key-1" not in out.out + out.err
    # The second cycle (state persisted by the first process) gives rates from the real agent.
    assert main(["-c", str(cfg), "collect", "--once"]) == 1
    table = {row.split()[0]: row for row in capsys.readouterr().out.splitlines() if row.startswith("L-")}
    # A rate, or the rate judged against the port speed: the loopback the agent reports carries every parallel
    # test's traffic and may exceed the 10 Mbit/s ifSpeed it claims (regression: failed under a loaded CI).
    v2c = table["L-v2c"]
    assert ("b/s" in v2c or "above port speed" in v2c) and "first sample" not in v2c
