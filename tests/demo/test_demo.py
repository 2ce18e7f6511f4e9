"""`make run` in miniature: `linewatch demo` starts InfluxDB and the demo network, collects, and stops cleanly."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import requests

from linewatch.servers.ports import free_tcp_port, free_udp_port

REPO = Path(__file__).resolve().parents[2]


def test_demo_collects_the_demo_network_and_stops_by_itself(tmp_path: Path) -> None:
    port = free_tcp_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWATCH_")}
    env.update(LINEWATCH_INFLUX__URL=f"http://127.0.0.1:{port}", LINEWATCH_COLLECTOR__INTERVAL_S="5")
    env["LINEWATCH_DEMO_WEB_ADDR"] = f"127.0.0.1:{free_tcp_port()}"  # not 18000: a `make run` may hold it
    run_dir = tmp_path / "run"
    # The shipped demo configuration, with free UDP ports for the simulated routers (the shipped ones may be taken
    # by a `make run` on the same machine).
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    lines = config / "lines.yaml"
    lines.write_text(re.sub(r"port: 1616\d", lambda _m: f"port: {free_udp_port()}", lines.read_text()))
    proc = subprocess.run(
        [sys.executable, "-m", "linewatch.cli", "-c", str(config / "linewatch.yaml"), "demo",
         "--run-dir", str(run_dir), "--seconds", "12", "--no-history"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "4/4 devices ok" in out, out[-3000:]
    rows = [line.split() for line in out.splitlines() if line.startswith("FRA-MPLS-1")]
    utils = [float(r[6]) for r in rows if len(r) > 6 and r[6].replace(".", "").isdigit()]
    assert utils and all(u >= 80 for u in utils), f"the saturated demo line must run above 80 %: {rows}"
    assert any("down" in line for line in out.splitlines() if line.startswith("AMS-MPLS-1"))
    assert not any(line.startswith("PAR-INET-2") for line in out.splitlines()), "a planned line is not polled"
    assert (run_dir / "var" / "collector-state.json").exists()
    assert f"management application: http://{env['LINEWATCH_DEMO_WEB_ADDR']}/" in out, out[-3000:]
    assert "management application stopped" in out
    # The collector polled the inventory the application served (its last good copy is kept).
    assert "the demo's collector and alert evaluator read their inventory from http://" in out, out[-3000:]
    assert (run_dir / "var" / "inventory-cache.json").exists()
    assert (run_dir / "web-users.txt").stat().st_mode & 0o777 == 0o600
    assert "influxd stopped" in out
    try:  # the demo's own influxd is gone
        requests.get(f"http://127.0.0.1:{port}/ping", timeout=1)
        raise AssertionError("influxd still running after the demo stopped")
    except requests.ConnectionError:
        pass
