"""Project-wide fixtures: a clean environment and the real servers (influxd, snmpd) on 127.0.0.1 free ports.

Area-specific fixtures live in ``tests/<area>/conftest.py``; only the shared servers are registered here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from linewatch.servers import InfluxdServer, SnmpdServer, SnmpV3User

SNMP_COMMUNITY = "public"
SNMP_V3_USERS = (
    SnmpV3User.from_mapping(
        {"user": "lwsha", "auth_protocol": "SHA", "auth_key": "authpass-123",
         "priv_protocol": "AES-128", "priv_key": "privpass-456"}
    ),
    SnmpV3User.from_mapping(
        {"user": "lwsha256", "auth_protocol": "SHA-256", "auth_key": "authpass-123",
         "priv_protocol": "AES-256", "priv_key": "privpass-456"}
    ),
)  # fmt: skip


@pytest.fixture(autouse=True)
def _clear_linewatch_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LINEWATCH_* variable from the developer's shell leaks into a test's settings."""
    for name in list(os.environ):
        if name.startswith("LINEWATCH_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxdServer]:
    """One influxd for the whole session; tests share it, each in its own database (see ``influx_db``)."""
    server = InfluxdServer(tmp_path_factory.mktemp("influxd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _influxql(url: str, statement: str) -> None:
    response = requests.post(f"{url}/query", params={"q": statement}, timeout=10)
    response.raise_for_status()
    for result in response.json().get("results", []):
        if "error" in result:
            raise RuntimeError(f"{statement}: {result['error']}")


@pytest.fixture
def influx_db(influxd: InfluxdServer) -> Iterator[tuple[str, str]]:
    """A fresh database on the session influxd: yields ``(url, dbname)``, drops the database afterwards."""
    dbname = f"lw_test_{uuid.uuid4().hex[:12]}"
    _influxql(influxd.url, f'CREATE DATABASE "{dbname}"')
    try:
        yield influxd.url, dbname
    finally:
        if influxd.running:
            _influxql(influxd.url, f'DROP DATABASE "{dbname}"')


@pytest.fixture
def influxd_private(tmp_path: Path) -> Iterator[InfluxdServer]:
    """An influxd of this test's own, started; the test may stop and restart it (outage tests)."""
    server = InfluxdServer(tmp_path / "influxd-private")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpdServer]:
    """One snmpd for the session: ``.port``, ``.community`` ("public"), ``.v3_users`` (lwsha: SHA/AES-128,
    lwsha256: SHA-256/AES-256), ``.user(name)``, ``.snmpget(oid, user=...)``."""
    server = SnmpdServer(tmp_path_factory.mktemp("snmpd"), community=SNMP_COMMUNITY, v3_users=SNMP_V3_USERS)
    server.start()
    try:
        yield server
    finally:
        server.stop()
