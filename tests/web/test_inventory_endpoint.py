"""``GET /api/inventory.json`` and its consumer :class:`linewatch.inventory_source.InventorySource`: the
application is the collectors' source of truth, polled every cycle, with the last good copy kept for outages."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr
from web_test_setup import web_env

from collector.service import Collector
from collector.simagent.agent import SimAgent
from collector.simagent.model import SimDevice
from collector.state import CounterState
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.inventory import load_inventory
from linewatch.inventory_source import InventorySource, InventoryUnavailable, inventory_from_document
from linewatch.servers.ports import free_tcp_port
from linewatch.settings import CollectorSettings, Settings
from web.inventory.io import import_dir
from web.inventory.models import Line

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
URL = "/api/inventory.json"
TOKEN = "collector-token-" + "x" * 32


@pytest.fixture
def inventory_token(settings):
    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={"web": lw.web.model_copy(update={"inventory_token": SecretStr(TOKEN)})})
    return TOKEN


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer "],
                         ids=["no-header", "wrong-token", "other-scheme", "empty-token"])
def test_inventory_without_the_collector_token_is_401_and_shows_no_secret(client, inventory_token, header):
    import_dir(CONFIG)
    response = client.get(URL, **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert response.status_code == 401
    assert "ETag" not in response
    assert b"demo-fra" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "scope", "status"), [
    ("engineer", "read", 200), ("admin", "read", 200), ("engineer", "write", 200),
    ("viewer", "read", 403), ("noc", "read", 403), ("finance", "write", 403), (None, "read", 403),
], ids=lambda v: str(v))
def test_inventory_with_an_api_token_needs_a_role_that_may_change_devices(client, user_with_role, role, scope,
                                                                          status):
    from linewatch.choices import TokenScope
    from web.accounts.tokens import Token

    import_dir(CONFIG)
    token, key = Token.create(user=user_with_role(role), name="collector", scope=TokenScope(scope))
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == status
    assert (b"demo-fra" in response.content) is (status == 200)
    token.refresh_from_db()
    assert token.last_used is not None


@pytest.mark.django_db
def test_inventory_with_an_expired_api_token_is_401(client, user_with_role):
    import datetime as dt

    from django.utils import timezone

    from web.accounts.tokens import Token

    _, key = Token.create(user=user_with_role("engineer"), name="old", expires=timezone.now() - dt.timedelta(1))
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


@pytest.mark.django_db
def test_inventory_is_refused_when_no_token_is_configured(client):
    import_dir(CONFIG)
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer None").status_code == 401


@pytest.mark.django_db
def test_inventory_document_validates_to_the_imported_inventory(client, inventory_token):
    import_dir(CONFIG)
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert inventory_from_document(response.json(), origin=URL) == load_inventory(CONFIG / "lines.yaml")


@pytest.mark.django_db
def test_unchanged_inventory_answers_304_and_a_change_a_new_etag(client, inventory_token):
    import_dir(CONFIG)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    first = client.get(URL, **auth)
    etag = first["ETag"]
    again = client.get(URL, HTTP_IF_NONE_MATCH=etag, **auth)
    assert again.status_code == 304 and again.content == b""
    line = Line.objects.get(name="FRA-INET-1")
    line.capacity_bps = 600_000_000
    line.save()
    changed = client.get(URL, HTTP_IF_NONE_MATCH=etag, **auth)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert {ln["id"]: ln["capacity_bps"] for ln in changed.json()["lines"]}["FRA-INET-1"] == 600_000_000


# -- the real collector against the real application ----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class _LoopThread:
    """The collector's one event loop (its UDP sockets belong to it, as in production), in a thread of its own:
    the test thread may already run a loop (left by another test's async code)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._runner = asyncio.Runner()

    def run(self, coro):
        return self._pool.submit(self._runner.run, coro).result(timeout=300)

    def close(self) -> None:
        self._pool.submit(self._runner.close).result(timeout=60)
        self._pool.shutdown()


def _lines_yaml(ports: dict[str, int], capacity_bps: int) -> str:
    devices = [{"name": n, "address": "127.0.0.1", "port": p, "snmp": {"version": "2c", "community": f"c-{n}"},
                "timeout_s": 10, "retries": 2} for n, p in ports.items()]  # generous: the machine may be loaded
    lines = [{"id": f"{n}-L{i}", "carrier": "Telia", "circuit_id": f"{n}-C{i}", "type": "internet",
              "site": "Frankfurt", "department": "Eng", "device": n, "interface": f"ge-0/0/{i}",
              "capacity_bps": capacity_bps if (n, i) == ("r1", 0) else 100_000_000}
             for n in ports for i in range(2)]
    return json.dumps({"devices": devices, "lines": lines})  # JSON is YAML


def _linewatch(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "linewatch.cli", *args], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


def _drain(writer: PointWriter, timeout_s: float = 120) -> None:
    """Wait until every spooled batch reached InfluxDB (a write that timed out under load is replayed, not lost)."""
    deadline = time.monotonic() + timeout_s
    while writer.stats().spooled_batches:
        assert time.monotonic() < deadline, f"InfluxDB did not take the spooled points: {writer.stats()}"
        writer.replay_spool()
        time.sleep(0.5)


def _capacities(url: str, db: str, line: str) -> list[int]:
    client = InfluxClient(InfluxSettings(url=url, database=db))
    series = client.query(f"SELECT capacity_bps FROM line_traffic WHERE \"line\" = '{line}'")
    health = client.query("SELECT inventory_stale_s FROM collector_health")
    client.close()
    return [row[1] for s in series for row in s["values"]], [row[1] for s in health for row in s["values"]]


@pytest.mark.slow
def test_collector_takes_a_capacity_change_from_the_app_within_one_cycle_and_survives_its_outage(
        influx_db, tmp_path, caplog):
    url, db = influx_db
    devs = {n: SimDevice.with_interfaces(n, 4, community=f"c-{n}", uptime_base_s=time.monotonic() - 1000)
            for n in ("r1", "r2")}
    (tmp_path / "linewatch.yaml").write_text(f"state_dir: {tmp_path / 'var'}\n")
    env = web_env(LINEWATCH_CONFIG=str(tmp_path / "linewatch.yaml"), LINEWATCH_WEB__INVENTORY_TOKEN=TOKEN)
    inv_dir = tmp_path / "inventory"
    inv_dir.mkdir()
    port = free_tcp_port()
    loop = _LoopThread()
    proc = collector = None
    with SimAgent(devs.values()) as agent:
        try:
            (inv_dir / "lines.yaml").write_text(_lines_yaml(agent.ports, 100_000_000))
            _linewatch(["web", "migrate"], env)
            _linewatch(["inventory", "import", str(inv_dir)], env)
            proc = subprocess.Popen([sys.executable, "-m", "linewatch.cli", "web", "runserver", f"127.0.0.1:{port}",
                                     "--noreload"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            clock = Clock()
            settings = Settings(inventory={"source": "http", "url": f"http://127.0.0.1:{port}{URL}", "token": TOKEN,
                                           "cache_path": tmp_path / "cache" / "inventory.json", "timeout_s": 120})
            source = InventorySource(settings, clock=clock)
            deadline = time.monotonic() + 300  # runserver's start on a loaded machine
            while source.failures or source._inventory is None:
                try:
                    inventory = source.current()
                except InventoryUnavailable:
                    assert proc.poll() is None and time.monotonic() < deadline, "runserver did not start"
                    time.sleep(0.5)
            source.failures = 0
            writer = PointWriter.from_settings(InfluxSettings(url=url, database=db, spool={
                "path": tmp_path / "spool", "max_bytes": 10_000_000}), max_retry_s=0.5)
            collector = Collector(settings=CollectorSettings(name="test", interval_s=60), inventory=inventory,
                                  writer=writer, state=CounterState(tmp_path / "state.json"), clock=clock,
                                  inventory_source=source)
            loop.run(collector.run_cycle())
            # The line's capacity changes in the application's database (through an import: a real change).
            (inv_dir / "lines.yaml").write_text(_lines_yaml(agent.ports, 250_000_000))
            _linewatch(["inventory", "import", str(inv_dir), "--user", "noc"], env)
            clock.now += 60
            loop.run(collector.run_cycle())
            assert collector.inventory.lines_by_id["r1-L0"].capacity_bps == 250_000_000
            cache = settings.inventory.cache_path
            assert cache.stat().st_mode & 0o777 == 0o600
            assert json.loads(cache.read_text())["inventory"]["devices"][0]["snmp"]["community"] == "c-r1"

            proc.terminate()  # the app goes away: collection continues from the last good copy
            proc.wait(timeout=60)
            caplog.set_level(logging.ERROR, logger="linewatch.inventory_source")
            for _ in range(2):
                clock.now += 60
                report = loop.run(collector.run_cycle())
                assert {p.device for p in report.polls if p.ok} == {"r1", "r2"}
            assert source.stale_s == 120
            outage_logs = [r for r in caplog.records if "keeping the last good copy" in r.getMessage()]
            assert len(outage_logs) == 1, "an outage is logged once, not every cycle"
            assert TOKEN not in caplog.text

            # A collector (re)started during the outage takes the copy on disk.
            restarted = InventorySource(settings, clock=clock)
            assert restarted.current() == collector.inventory and restarted.failures == 1
            _drain(writer)
            writer.close()
            capacities, stale = _capacities(url, db, "r1-L0")
            assert capacities[0] == 100_000_000 and capacities[-3:] == [250_000_000] * 3, capacities
            assert stale == [0, 0, 60, 120]
        finally:
            if collector is not None:
                loop.run(collector.close())
            loop.close()
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)


# -- the files source and the other consumers ------------------------------------------------------------------


def _files_settings(tmp_path: Path) -> Settings:
    for name in ("lines.yaml", "alerts.yaml"):
        (tmp_path / name).write_text((CONFIG / name).read_text())
    (tmp_path / "linewatch.yaml").write_text("state_dir: var\n")
    from linewatch.settings import load_settings

    return load_settings(tmp_path / "linewatch.yaml")


def test_files_source_takes_a_changed_lines_yaml_and_keeps_the_last_good_copy_of_a_broken_one(tmp_path, caplog):
    clock = Clock()
    source = InventorySource(_files_settings(tmp_path), clock=clock)
    first = source.current()
    text = (tmp_path / "lines.yaml").read_text()
    (tmp_path / "lines.yaml").write_text(text.replace("capacity_bps: 20000000", "capacity_bps: 30000000"))
    assert source.current().lines_by_id["FRA-VOICE-1"].capacity_bps == 30_000_000 != \
        first.lines_by_id["FRA-VOICE-1"].capacity_bps
    good = source.current()
    (tmp_path / "lines.yaml").write_text(text.replace("capacity_bps: 20000000", "capacity_bps: -1"))
    caplog.set_level(logging.ERROR, logger="linewatch.inventory_source")
    for _ in range(3):
        clock.now += 60
        assert source.current() is good
    assert source.stale_s == 180
    (problem,) = [r.getMessage() for r in caplog.records]
    assert "lines.yaml" in problem and "capacity_bps" in problem


def test_http_source_with_no_app_and_no_copy_names_the_url_not_the_token(tmp_path):
    settings = Settings(inventory={"source": "http", "url": f"http://127.0.0.1:{free_tcp_port()}{URL}",
                                   "token": TOKEN, "cache_path": tmp_path / "none.json", "timeout_s": 5})
    with pytest.raises(InventoryUnavailable) as caught:
        InventorySource(settings).current()
    assert "127.0.0.1" in str(caught.value) and TOKEN not in str(caught.value)


def test_alert_evaluator_takes_the_sources_current_inventory_each_evaluation(tmp_path, influx_db):
    from alerting.service import AlertService
    from linewatch.influx import InfluxClient

    url, db = influx_db
    settings = _files_settings(tmp_path)
    service = AlertService.from_settings(settings, client=InfluxClient(InfluxSettings(url=url, database=db)),
                                         clock=lambda: 1_800_000_000.0)
    try:
        service.evaluate()
        assert "FRA-NEW-1" not in service.evaluator.lines
        text = (tmp_path / "lines.yaml").read_text()
        (tmp_path / "lines.yaml").write_text(text.replace("lines:\n", """lines:
  - {id: FRA-NEW-1, carrier: Telia, circuit_id: TLA-NEW-1, type: internet, site: Frankfurt,
     department: Engineering, device: fra-edge-1, interface: ge-0/0/9, capacity_bps: 1000000}
""", 1))
        service.evaluate()
        assert "FRA-NEW-1" in service.evaluator.lines
    finally:
        service.close()


def test_check_config_with_the_http_source_reports_an_unreachable_app_on_inventory_url(tmp_path, monkeypatch):
    from linewatch.configcheck import check_all

    monkeypatch.setenv("LW_TEST_INVENTORY_TOKEN", TOKEN)
    (tmp_path / "linewatch.yaml").write_text(
        f"inventory:\n  source: http\n  url: http://127.0.0.1:{free_tcp_port()}{URL}\n"
        "  token: ${LW_TEST_INVENTORY_TOKEN}\n  timeout_s: 5\n")
    problems = [p for p in check_all(tmp_path / "linewatch.yaml") if p.key == "inventory.url"]
    assert len(problems) == 1 and "ConnectionError" in problems[0].reason and TOKEN not in str(problems[0])
