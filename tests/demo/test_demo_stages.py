"""The core package imports no area: the demo's collector parts are registered by name, like the CLI's commands."""

from __future__ import annotations

import ast
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linewatch import cli, demo
from linewatch.plugins import load
from linewatch.servers.ports import free_tcp_port, free_udp_port

REPO = Path(__file__).resolve().parents[2]
AREAS = ("collector", "alerting", "billing_etl", "web")


def _area_imports(path: Path, *, root: Path = REPO) -> list[str]:
    """``file:line: module`` for every import of an area package, including imports inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [f"{path.relative_to(root)}:{node.lineno}: {n}" for n in names if n.split(".")[0] in AREAS]
    return found


def test_core_package_imports_no_area() -> None:
    """Regression: linewatch/demo.py imported collector.demo, collector.runner, collector.service and
    collector.simagent inside its functions, so the core could not be used or tested without the collector."""
    offenders = [hit for path in sorted((REPO / "linewatch").rglob("*.py")) for hit in _area_imports(path)]
    assert offenders == []


def test_area_import_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The check above must catch the lazy import the bug was made of (a check that cannot fail is a defect)."""
    sample = tmp_path / "probe.py"
    sample.write_text(
        "from linewatch.plugins import load\nimport collectors_like_name\n"
        "def f():\n    from collector.runner import build_collector\n    import alerting.demo, os\n"
    )
    assert _area_imports(sample, root=tmp_path) == ["probe.py:4: collector.runner", "probe.py:5: alerting.demo"]


@pytest.mark.parametrize("spec", demo.DEMO_SETUP + demo.DEMO_STAGES)
def test_every_registered_demo_entry_resolves(spec: str) -> None:
    assert callable(load(spec))


def test_demo_network_is_set_up_before_the_collector_polls_it() -> None:
    assert "collector.demo.stage:demo_network" in demo.DEMO_SETUP
    assert "collector.demo.stage:collect_stage" in demo.DEMO_STAGES
    assert "linewatch.demo" in cli.SUBCOMMAND_MODULES


@pytest.mark.slow
def test_demo_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) used to reach the collector's asyncio loop; now the demo owns it: every stage stops, the
    demo's own influxd is stopped, exit status 0."""
    port = free_tcp_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWATCH_")}
    env.update(LINEWATCH_INFLUX__URL=f"http://127.0.0.1:{port}", LINEWATCH_COLLECTOR__INTERVAL_S="5")
    env["LINEWATCH_DEMO_WEB_ADDR"] = f"127.0.0.1:{free_tcp_port()}"  # not 18000: a `make run` may hold it
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    lines = config / "lines.yaml"
    lines.write_text(re.sub(r"port: 1616\d", lambda _m: f"port: {free_udp_port()}", lines.read_text()))
    out_path = tmp_path / "demo.out"
    with open(out_path, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "linewatch.cli", "-c", str(config / "linewatch.yaml"), "demo",
             "--run-dir", str(tmp_path / "run"), "--no-history"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while "devices ok" not in out_path.read_text():  # one full collector cycle printed
            assert proc.poll() is None, out_path.read_text()[-3000:]
            assert time.monotonic() < deadline, out_path.read_text()[-3000:]
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0, out_path.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    text = out_path.read_text()
    assert "influxd stopped" in text and "[demo] done;" in text, text[-3000:]
    # (Other stages may report a busy port of their own on a shared machine; that is theirs, not the stop's.)
    assert "KeyboardInterrupt" not in text and "CancelledError" not in text, text[-3000:]
