"""SNMP collector benchmarks against the simulated agent (run as a subprocess, so its CPU is not ours).

``snmp-cpu``: collector CPU (``time.process_time``) to walk the polled columns of one 1,000-interface device with
:class:`collector.snmp.v2c_client.V2cClient`, per 10,000 interface samples, vs net-snmp ``snmpbulkwalk -v2c -Cr50
-Oqn`` of the same columns (one invocation per column, as snmpbulkwalk takes one subtree), CPU from
``RUSAGE_CHILDREN``, minus the CPU of the same number of invocations walking an empty subtree (process start-up),
so the reference is net-snmp's per-value cost only (the stricter comparison). Ratio = ours / snmpbulkwalk.

``snmp-50-devices``: 50 simulated devices of 100 interfaces each, polled concurrently (asyncio.gather) by 50
clients; figure = interfaces polled per second of wall time; reference = snmpbulkwalk over the same devices and
columns run sequentially (how a shell-script poller would do it). Ratio = ours / reference (higher is better).

An interface sample = the 8 columns the collector fetches: ifHCInOctets, ifHCOutOctets, ifOperStatus,
ifAdminStatus, ifInErrors, ifOutErrors, ifInDiscards, ifOutDiscards.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from collector.snmp.ifmib import SYS_UPTIME
from collector.snmp.v2c_client import V2cClient

IF_MIB = "1.3.6.1.2.1.2.2.1"
IFX_MIB = "1.3.6.1.2.1.31.1.1.1"
COLUMNS = {
    "ifHCInOctets": f"{IFX_MIB}.6",
    "ifHCOutOctets": f"{IFX_MIB}.10",
    "ifOperStatus": f"{IF_MIB}.8",
    "ifAdminStatus": f"{IF_MIB}.7",
    "ifInErrors": f"{IF_MIB}.14",
    "ifOutErrors": f"{IF_MIB}.20",
    "ifInDiscards": f"{IF_MIB}.13",
    "ifOutDiscards": f"{IF_MIB}.19",
}
EMPTY_SUBTREE = f"{IFX_MIB}.99"
COMMUNITY = "public"
MAX_REPETITIONS = 50


@contextmanager
def sim_agent(devices: list[dict[str, object]]) -> Iterator[dict[str, int]]:
    """Start ``python -m collector.simagent`` with these devices; yields {name: port}."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(
            json.dumps({"devices": devices, "model": "collector.simagent.model:ConstantRateModel"})
        )
        env = dict(os.environ, PYTHONPATH=str(root))
        proc = subprocess.Popen(
            [sys.executable, "-m", "collector.simagent", "--spec", str(spec)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
            env=env,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("READY "):
                raise RuntimeError(f"simulated agent did not start (got {line!r})")
            yield json.loads(line[len("READY ") :])
        finally:
            proc.terminate()
            proc.wait(10)


def _children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def snmpbulkwalk(port: int, oid: str) -> int:
    """Walk one subtree with net-snmp; returns the number of values printed."""
    exe = shutil.which("snmpbulkwalk")
    if exe is None:
        raise RuntimeError("snmpbulkwalk not found: apt-get install snmp")
    out = subprocess.run(
        [
            exe,
            "-v2c",
            "-c",
            COMMUNITY,
            f"-Cr{MAX_REPETITIONS}",
            "-Oqn",
            "-t",
            "5",
            "-r",
            "1",
            f"127.0.0.1:{port}",
            oid,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, MIBS="", SNMPCONFPATH="/nonexistent"),
    ).stdout
    return sum(1 for line in out.splitlines() if line.startswith(".") and "No more variables" not in line)


def reference_cpu_per_walk(port: int, reps: int) -> float:
    """snmpbulkwalk CPU seconds for all columns of one device, start-up subtracted."""
    before = _children_cpu_s()
    for _ in range(reps):
        for oid in COLUMNS.values():
            snmpbulkwalk(port, oid)
    walks = _children_cpu_s() - before
    before = _children_cpu_s()
    for _ in range(reps):
        for _oid in COLUMNS.values():
            snmpbulkwalk(port, EMPTY_SUBTREE)
    startup = _children_cpu_s() - before
    return max(walks - startup, 1e-9) / reps


async def _timed_walk(client: V2cClient, cols: list[str]):  # noqa: ANN202
    return await client.walk_table_timed(cols, scalars=(SYS_UPTIME,), max_repetitions=MAX_REPETITIONS)


async def collector_cpu_per_walk(port: int, reps: int, interfaces: int) -> float:
    client = V2cClient(
        device_name="bench", host="127.0.0.1", port=port, community=COMMUNITY, timeout_s=5, retries=1
    )
    cols = list(COLUMNS.values())
    # The poller's own read: every GETBULK carries sysUpTime.0 and every response is time-stamped.
    result = (await _timed_walk(client, cols)).values  # warm-up (socket, caches)
    assert all(len(result[c]) == interfaces for c in cols), {c: len(v) for c, v in result.items()}
    start = time.process_time()
    for _ in range(reps):
        await _timed_walk(client, cols)
    cpu = (time.process_time() - start) / reps
    await client.close()
    return cpu


def bench_cpu() -> None:
    interfaces = 1000
    with sim_agent([{"name": "r1", "interfaces": interfaces}]) as ports:
        port = ports["r1"]
        ours = asyncio.run(collector_cpu_per_walk(port, 10, interfaces))
        ref = reference_cpu_per_walk(port, 5)
    per10k = 10_000 / interfaces
    ours_s, ref_s = ours * per10k, ref * per10k
    print(
        f"bench snmp-cpu: {ours_s:.3f} s CPU per 10,000 interface samples ({len(COLUMNS)} columns) "
        f"| snmpbulkwalk: {ref_s:.3f} s | ratio {ours_s / ref_s:.2f}",
        flush=True,
    )


async def _poll_all(ports: dict[str, int], interfaces: int) -> float:
    clients = [
        V2cClient(device_name=n, host="127.0.0.1", port=p, community=COMMUNITY, timeout_s=5, retries=1)
        for n, p in ports.items()
    ]
    cols = list(COLUMNS.values())
    await asyncio.gather(*(_timed_walk(c, cols) for c in clients))  # warm-up
    reps = 3
    start = time.perf_counter()
    for _ in range(reps):
        results = await asyncio.gather(*(_timed_walk(c, cols) for c in clients))
    wall = (time.perf_counter() - start) / reps
    assert all(len(r.values[cols[0]]) == interfaces for r in results)
    for c in clients:
        await c.close()
    return len(clients) * interfaces / wall


def bench_fleet() -> None:
    n_devices, interfaces = 50, 100
    with sim_agent([{"name": f"r{i}", "interfaces": interfaces} for i in range(n_devices)]) as ports:
        ours = asyncio.run(_poll_all(ports, interfaces))
        start = time.perf_counter()
        for port in ports.values():
            for oid in COLUMNS.values():
                assert snmpbulkwalk(port, oid) == interfaces
        ref = n_devices * interfaces / (time.perf_counter() - start)
    print(
        f"bench snmp-50-devices: {ours:.0f} interfaces/s wall (50 devices x {interfaces} interfaces, concurrent) "
        f"| snmpbulkwalk sequential: {ref:.0f} interfaces/s | ratio {ours / ref:.2f}",
        flush=True,
    )


class _EncodingWriter:
    """Stands in for the InfluxDB writer: encodes the points to line protocol (that CPU is the collector's) and
    drops them, so the figure is the collector's own work, not InfluxDB's."""

    def write(self, points: list) -> None:  # noqa: ANN001
        from linewatch.influx import encode_points

        self.last_body = encode_points(points)

    def stats(self):  # noqa: ANN201
        from linewatch.influx import WriterStats

        return WriterStats(0, 0, 0, 0, 0, 0)


async def full_cycle_cpu(port: int, reps: int, interfaces: int) -> float:
    """CPU per cycle of the real collector (poller, counter math, points, line protocol) over ``interfaces`` lines."""
    from collector.service import Collector
    from collector.state import CounterState
    from linewatch.inventory import Inventory
    from linewatch.settings import CollectorSettings

    inventory = Inventory.model_validate({
        "devices": [{"name": "r1", "address": "127.0.0.1", "port": port,
                     "snmp": {"version": "2c", "community": COMMUNITY}, "timeout_s": 5}],
        "lines": [{"id": f"L{i}", "carrier": "Telia", "circuit_id": f"C{i}", "type": "internet", "site": "S",
                   "department": "D", "device": "r1", "interface": f"ge-0/0/{i - 1}", "capacity_bps": 10**9}
                  for i in range(1, interfaces + 1)],
    })
    collector = Collector(settings=CollectorSettings(name="bench", interval_s=60), inventory=inventory,
                          writer=_EncodingWriter(), state=CounterState(None))  # type: ignore[arg-type]
    await collector.run_cycle()  # warm-up: resolves ifName, first samples
    start = time.process_time()
    for _ in range(reps):
        report = await collector.run_cycle()
    cpu = (time.process_time() - start) / reps
    assert len(report.lines) == interfaces and not report.failed_devices
    await collector.close()
    return cpu


def bench_full_cycle() -> None:
    from collector.service import Collector  # noqa: F401 - fail early if the collector is missing
    from collector.snmp import ifmib

    interfaces = 1000
    columns = [ifmib.IF_NAME, *ifmib.HC_COLUMNS, *ifmib.STATUS_COLUMNS]
    with sim_agent([{"name": "r1", "interfaces": interfaces}]) as ports:
        port = ports["r1"]
        ours = asyncio.run(full_cycle_cpu(port, 10, interfaces))
        before = _children_cpu_s()
        for _ in range(5):
            for oid in columns:
                snmpbulkwalk(port, oid)
        walks = _children_cpu_s() - before
        before = _children_cpu_s()
        for _ in range(5):
            for _oid in columns:
                snmpbulkwalk(port, EMPTY_SUBTREE)
        ref = max(walks - (_children_cpu_s() - before), 1e-9) / 5
    per10k = 10_000 / interfaces
    print(
        f"bench snmp-collector-cpu: {ours * per10k:.3f} s CPU per 10,000 line samples (full cycle: poll "
        f"{len(columns)} columns, rates, points, line protocol) | snmpbulkwalk same {len(columns)} columns: "
        f"{ref * per10k:.3f} s | ratio {ours / ref:.2f}",
        flush=True,
    )


def main() -> None:
    bench_cpu()
    bench_full_cycle()
    bench_fleet()


if __name__ == "__main__":
    main()
