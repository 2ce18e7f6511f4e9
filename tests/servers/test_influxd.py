"""The influxd launcher: private, loopback-only, data kept across restarts, clear errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from linewatch.errors import ServerError
from linewatch.servers import InfluxdServer
from linewatch.servers import process as server_process


def _write(url: str, db: str, body: str) -> None:
    response = requests.post(f"{url}/write", params={"db": db, "precision": "s"}, data=body, timeout=10)
    assert response.status_code == 204, response.text


def _query(url: str, db: str, q: str) -> list[list[object]]:
    response = requests.get(f"{url}/query", params={"db": db, "q": q}, timeout=10)
    response.raise_for_status()
    result = response.json()["results"][0]
    assert "error" not in result, result
    series = result.get("series", [])
    return [row for s in series for row in s["values"]]


def test_written_point_is_returned_by_query(influx_db: tuple[str, str]) -> None:
    url, db = influx_db
    _write(url, db, "if_octets,line=L1 in_octets=1234i 1700000000")
    assert _query(url, db, "SELECT in_octets FROM if_octets WHERE line = 'L1'") == [
        ["2023-11-14T22:13:20Z", 1234]
    ]


def test_data_survives_stop_and_restart(influxd_private: InfluxdServer) -> None:
    url = influxd_private.url
    requests.post(f"{url}/query", params={"q": "CREATE DATABASE keep"}, timeout=10).raise_for_status()
    _write(url, "keep", "m v=1i 1700000000\nm v=2i 1700000060")
    influxd_private.stop()
    assert not influxd_private.running
    assert not influxd_private.ping()
    influxd_private.start()
    assert influxd_private.url == url
    assert _query(url, "keep", "SELECT v FROM m") == [
        ["2023-11-14T22:13:20Z", 1],
        ["2023-11-14T22:14:20Z", 2],
    ]


def test_two_servers_run_at_once_on_distinct_ports(
    influxd: InfluxdServer, influxd_private: InfluxdServer
) -> None:
    assert influxd.ping() and influxd_private.ping()
    assert (
        len({influxd.http_port, influxd.rpc_port, influxd_private.http_port, influxd_private.rpc_port}) == 4
    )


def test_listeners_are_loopback_free_ports_not_defaults(influxd: InfluxdServer) -> None:
    config = influxd.config_path.read_text()
    assert f'bind-address = "127.0.0.1:{influxd.rpc_port}"' in config
    assert f'bind-address = "127.0.0.1:{influxd.http_port}"' in config
    assert {influxd.http_port, influxd.rpc_port}.isdisjoint({8086, 8088})
    with socket.create_connection(("127.0.0.1", influxd.rpc_port), timeout=2):
        pass


def test_influxdb_env_variables_do_not_override_generated_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFLUXDB_HTTP_BIND_ADDRESS", "127.0.0.1:1")
    with InfluxdServer(tmp_path / "env") as server:
        assert server.ping()


def test_server_runs_in_its_own_session_without_tty(influxd: InfluxdServer) -> None:
    assert influxd.pid is not None
    assert os.getsid(influxd.pid) == influxd.pid != os.getsid(0)


def test_auth_enabled_rejects_anonymous_queries(tmp_path: Path) -> None:
    with InfluxdServer(tmp_path / "auth", auth_enabled=True) as server:
        response = requests.get(f"{server.url}/query", params={"q": "SHOW DATABASES"}, timeout=10)
        assert response.status_code in (401, 403)


def test_port_in_use_fails_with_log_tail(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = InfluxdServer(tmp_path / "busy", http_port=port)
        with pytest.raises(ServerError, match="(?s)exited with code.*address already in use"):
            server.start()
        assert not server.running


def test_missing_influxd_names_package_and_installer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(server_process, "_SYSTEM_DIRS", ())
    with pytest.raises(ServerError, match="influxd not found.*'influxdb'.*scripts/ensure-sysdeps.sh"):
        InfluxdServer(tmp_path / "x").start()


def test_influx_db_fixture_gives_each_test_its_own_empty_database(influx_db: tuple[str, str]) -> None:
    url, db = influx_db
    assert db.startswith("lw_test_")
    assert _query(url, db, "SHOW MEASUREMENTS") == []
    assert [db] in _query(url, db, "SHOW DATABASES")


def test_server_left_running_is_stopped_at_interpreter_exit(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from linewatch.servers import InfluxdServer; "
        "print(InfluxdServer(Path(sys.argv[1])).start().pid)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "forgotten")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    with pytest.raises(ProcessLookupError):
        os.kill(int(run.stdout), 0)
