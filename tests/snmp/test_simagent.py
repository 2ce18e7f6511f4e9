"""The simulated agent answers net-snmp's own tools correctly, and its devices change the way tests tell them to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from collector.simagent import CounterSample, DeviceResponder, SimAgent, SimDevice, SimInterface
from collector.simagent.__main__ import SpecError, devices_from_spec
from collector.snmp import ber
from linewatch.errors import ServerError

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"


def arcs(oid: str) -> tuple[int, ...]:
    return tuple(int(a) for a in oid.split("."))


def net_snmp(tool: str, *args: str, timeout_s: float = 2) -> subprocess.CompletedProcess[str]:
    """Run a net-snmp command-line tool without MIB loading or user config."""
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} not found: install the Debian package 'snmp' (scripts/ensure-sysdeps.sh)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNMP", "MIB"))}
    env.update(MIBS="", SNMPCONFPATH="/nonexistent")
    return subprocess.run(
        [exe, "-t", str(timeout_s), "-r", "1", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )


def walk_lines(port: int, oid: str, community: str = "public") -> list[tuple[str, str]]:
    r = net_snmp(
        "snmpbulkwalk", "-v2c", "-c", community, "-Cr7", "-On", "-OQ", "-Ot", f"127.0.0.1:{port}", oid
    )
    assert r.returncode == 0, r.stderr
    out = []
    for line in r.stdout.splitlines():
        name, _, value = line.partition(" = ")
        out.append((name.lstrip("."), value))
    return out


def test_full_bulkwalk_is_in_lexicographic_order_and_ends_at_end_of_mib_view(sim: SimAgent) -> None:
    r = net_snmp("snmpbulkwalk", "-v2c", "-c", "public", "-Cr13", "-On", f"127.0.0.1:{sim.port('r1')}", "1.3")
    assert r.returncode == 0, r.stderr
    names = [line.split(" ", 1)[0].lstrip(".") for line in r.stdout.splitlines()]
    assert "No more variables left in this MIB View" in r.stdout.splitlines()[-1]
    names = names[:-1]
    assert [arcs(n) for n in names] == sorted(arcs(n) for n in names)
    assert len(names) == len(set(names)) == 5 + 17 * 4  # 5 scalars, 17 columns x 4 interfaces


@pytest.mark.parametrize(
    ("oid", "expected"),
    [
        (SYS_NAME, '"r1"'),
        (SYS_UPTIME, "1000"),
        ("1.3.6.1.2.1.2.1.0", "4"),
        (f"{IF_NAME}.3", '"ge-0/0/2"'),
        (f"{IF_IN_OCTETS}.2", str((2**40 + 7) % 2**32)),
        (f"{IF_HC_IN}.2", str(2**40 + 7)),
        (f"{IF_OPER}.4", "2"),
        ("1.3.6.1.2.1.31.1.1.1.15.1", "1000"),
        (f"{IF_NAME}.99", "No Such Instance currently exists at this OID"),
        ("1.3.6.1.2.1.99.1.0", "No Such Object available on this agent at this OID"),
    ],
    ids=[
        "sysName",
        "sysUpTime-ticks",
        "ifNumber",
        "ifName",
        "ifInOctets-wraps-at-2^32",
        "ifHCInOctets-64bit",
        "ifOperStatus-down",
        "ifHighSpeed-mbps",
        "missing-instance",
        "missing-object",
    ],
)
def test_snmpget_reads_the_device_model(sim: SimAgent, oid: str, expected: str) -> None:
    dev = sim.devices["r1"]
    dev.set_counters(2, in_octets=2**40 + 7)
    dev.set_counters(4, oper_status=2)
    r = net_snmp("snmpget", "-v2c", "-c", "public", "-Oqvt", f"127.0.0.1:{sim.port('r1')}", oid)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == expected


def test_reboot_restarts_uptime_and_resets_counters(sim: SimAgent, clock) -> None:
    dev = sim.devices["r1"]
    dev.advance(1, in_octets=5000, out_errors=3)
    clock.advance(20)
    dev.reboot()
    clock.advance(1.5)
    port = sim.port("r1")
    assert dict(walk_lines(port, SYS_UPTIME)) == {SYS_UPTIME: "150"}
    assert dict(walk_lines(port, f"{IF_HC_IN}.1")) == {f"{IF_HC_IN}.1": "0"}


@pytest.mark.parametrize(
    ("change", "expected_names"),
    [
        (lambda d: d.move_interface(2, 17), {1: "ge-0/0/0", 3: "ge-0/0/2", 4: "ge-0/0/3", 17: "ge-0/0/1"}),
        (lambda d: d.remove_interface(3), {1: "ge-0/0/0", 2: "ge-0/0/1", 4: "ge-0/0/3"}),
        (
            lambda d: d.add_interface(9, SimInterface(name="xe-1/0/0")),
            {1: "ge-0/0/0", 2: "ge-0/0/1", 3: "ge-0/0/2", 4: "ge-0/0/3", 9: "xe-1/0/0"},
        ),
    ],
    ids=["move-ifindex", "remove-interface", "add-interface"],
)
def test_interface_layout_changes_show_in_the_next_walk(sim: SimAgent, change, expected_names) -> None:
    port = sim.port("r1")
    walk_lines(port, IF_NAME)  # the agent has built its view of the old layout
    change(sim.devices["r1"])
    got = {int(n.rsplit(".", 1)[1]): v.strip('"') for n, v in walk_lines(port, IF_NAME)}
    assert got == expected_names


def test_interface_without_hc_counters_has_no_ifhc_rows(sim: SimAgent) -> None:
    dev = sim.devices["r1"]
    walk_lines(sim.port("r1"), IF_HC_IN)
    dev.interfaces[2].hc_counters = False
    assert [n for n, _ in walk_lines(sim.port("r1"), IF_HC_IN)] == [f"{IF_HC_IN}.{i}" for i in (1, 3, 4)]


def test_agent_listens_on_requested_fixed_port() -> None:
    from linewatch.servers.ports import free_udp_port

    port = free_udp_port()
    with SimAgent([SimDevice.with_interfaces("fixed", 1)], ports={"fixed": port}) as agent:
        assert agent.port("fixed") == port
        assert dict(walk_lines(port, SYS_NAME)) == {SYS_NAME: '"fixed"'}


def test_agent_reports_a_port_already_in_use(sim: SimAgent) -> None:
    with pytest.raises(ServerError, match="simulated device dup: cannot listen"):
        SimAgent([SimDevice.with_interfaces("dup", 1)], ports={"dup": sim.port("r1")}).start().stop()


def test_each_device_answers_only_its_own_community_on_its_own_port(sim: SimAgent) -> None:
    assert sim.port("r1") != sim.port("r2")
    assert dict(walk_lines(sim.port("r2"), SYS_NAME, community="c2")) == {SYS_NAME: '"r2"'}
    r = net_snmp("snmpget", "-v2c", "-c", "public", f"127.0.0.1:{sim.port('r2')}", SYS_NAME, timeout_s=0.3)
    assert r.returncode != 0 and "Timeout" in r.stderr


def test_silent_device_drops_requests(sim: SimAgent) -> None:
    sim.devices["r1"].set_silent()
    r = net_snmp("snmpget", "-v2c", "-c", "public", f"127.0.0.1:{sim.port('r1')}", SYS_NAME, timeout_s=0.3)
    assert r.returncode != 0 and "Timeout" in r.stderr


def test_busy_device_answers_each_request_after_its_delay_in_turn(sim: SimAgent) -> None:
    """Per-request delays (the slow-device option): the agent holds each request, then reads and answers it."""
    dev = sim.devices["r1"]
    dev.set_request_delays([0.2, 0.0])
    for _ in range(3):
        r = net_snmp("snmpget", "-v2c", "-c", "public", f"127.0.0.1:{sim.port('r1')}", SYS_NAME, timeout_s=5)
        assert r.returncode == 0 and '"r1"' in r.stdout, r.stderr
    assert dev.requests_seen == 3
    assert [dev.request_delay_s(n) for n in range(3)] == [0.2, 0.0, 0.2]


def test_spec_request_delays_make_a_slow_device() -> None:
    (dev, _), = devices_from_spec({"devices": [{"name": "a", "request_delays_s": [2.5, 0.5]}]}, "spec.json")[0]
    assert [dev.next_request_delay() for _ in range(3)] == [2.5, 0.5, 2.5]


def test_request_delay_spent_on_an_injected_clock(sim: SimAgent, clock) -> None:
    dev = sim.devices["r1"]
    dev.set_request_delays([30.0], spend=clock.advance)
    r = net_snmp("snmpget", "-v2c", "-c", "public", f"127.0.0.1:{sim.port('r1')}", SYS_UPTIME, timeout_s=5)
    assert r.returncode == 0 and "(4000)" in r.stdout, r.stdout  # booted 10 s before, then busy 30 s


# ------------------------------------------------------------------ the responder itself (pure, no sockets)


def _request(pdu: int, oids: list[str], f1: int = 0, f2: int = 0, community: bytes = b"public") -> bytes:
    return ber.encode_message(
        version=1,
        community=community,
        pdu_type=pdu,
        request_id=7,
        error_status=f1,
        error_index=f2,
        varbinds=[(o, ber.TAG_NULL, None) for o in oids],
    )


def test_getbulk_returns_fewer_rows_rather_than_exceeding_the_response_size() -> None:
    dev = SimDevice.with_interfaces("big", 200)
    responder = DeviceResponder(dev, max_response_bytes=1400)
    reply = responder.respond(_request(ber.PDU_GETBULK, [IF_NAME, IF_HC_IN], f2=200))
    assert reply is not None and len(reply) <= 1400
    msg = ber.decode_message(reply)
    assert msg.error_status == 0 and 2 <= len(msg.varbinds) < 400 and len(msg.varbinds) % 2 == 0


def test_getbulk_honours_non_repeaters_and_stops_after_end_of_mib_view() -> None:
    dev = SimDevice.with_interfaces("r", 2)
    reply = DeviceResponder(dev).respond(
        _request(ber.PDU_GETBULK, [SYS_NAME, f"{IF_HC_IN}.1", "1.3.6.1.2.1.31.1.1.1.18.1"], f1=1, f2=10)
    )
    vbs = ber.decode_message(reply).varbinds  # type: ignore[arg-type]
    assert vbs[0][0] == "1.3.6.1.2.1.2.1.0"  # non-repeater: next after sysName is ifNumber
    assert [v[0] for v in vbs[1:5]] == [
        f"{IF_HC_IN}.2",
        "1.3.6.1.2.1.31.1.1.1.18.2",
        "1.3.6.1.2.1.31.1.1.1.10.1",
        "1.3.6.1.2.1.31.1.1.1.18.2",
    ]
    assert vbs[4][1] == ber.TAG_END_OF_MIB_VIEW
    assert len(vbs) < 1 + 2 * 10


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30\x03\x02\x01", _request(ber.PDU_GET, [SYS_NAME], community=b"wrong")],
    ids=["empty", "truncated", "wrong-community"],
)
def test_responder_drops_bad_requests(data: bytes) -> None:
    assert DeviceResponder(SimDevice.with_interfaces("r", 1)).respond(data) is None


class _StepModel:
    def sample(self, device: SimDevice, if_index: int, t_s: float) -> CounterSample:
        return CounterSample(
            in_octets=int(t_s) * 100 + if_index, out_octets=int(t_s), oper_status=1 + if_index % 2
        )


def test_counter_model_drives_values_by_time() -> None:
    t = [50.0]
    dev = SimDevice.with_interfaces("r", 3)
    dev.model = _StepModel()
    responder = DeviceResponder(dev, wall_clock=lambda: t[0])
    get = _request(ber.PDU_GET, [f"{IF_HC_IN}.2", f"{IF_OPER}.2", f"{IF_HC_IN}.3"])
    assert [v[2] for v in ber.decode_message(responder.respond(get)).varbinds] == [5002, 1, 5003]  # type: ignore[arg-type]
    t[0] = 60.0
    assert [v[2] for v in ber.decode_message(responder.respond(get)).varbinds] == [6002, 1, 6003]  # type: ignore[arg-type]


# ------------------------------------------------------------------ subprocess entry point


def test_subprocess_agent_serves_spec_devices(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "devices": [{"name": "edge1", "interfaces": 3}],
                "model": "collector.simagent.model:ConstantRateModel",
            }
        )
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector.simagent", "--spec", str(spec)],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("READY ")
        port = json.loads(line[6:])["edge1"]
        assert dict(walk_lines(port, SYS_NAME)) == {SYS_NAME: '"edge1"'}
        assert len(walk_lines(port, IF_HC_IN)) == 3
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "'devices' must be a non-empty list"),
        ({"devices": [{"interfaces": 2}]}, r"devices\[0\]: needs at least a 'name'"),
        ({"devices": [{"name": "a", "colour": "red"}]}, r"devices\[0\]: unknown keys \['colour'\]"),
        ({"devices": [{"name": "a", "interfaces": [{"name": "x"}]}]}, r"devices\[0\].interfaces\[0\]"),
        ({"devices": [{"name": "a"}, {"name": "a"}]}, "unique"),
        ({"devices": [{"name": "a"}], "model": "nocolon"}, "module:callable"),
        ({"devices": [{"name": "a", "request_delays_s": [1, -2]}]}, r"devices\[0\].request_delays_s: .*>= 0"),
    ],
    ids=[
        "no-devices",
        "no-name",
        "unknown-key",
        "interface-without-if-index",
        "duplicate-names",
        "bad-model-ref",
        "negative-request-delay",
    ],
)
def test_bad_spec_is_rejected_naming_file_and_field(spec: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        devices_from_spec(spec, "spec.json")
