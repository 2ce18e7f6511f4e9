"""Project-wide fixtures: a clean environment and the real servers (influxd, snmpd, PostgreSQL, slapd, dovecot) on
loopback.

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
from linewatch.servers.dovecot import DovecotServer
from linewatch.servers.postgres import PostgresServer
from linewatch.servers.slapd import LdapGroup, LdapUser, SlapdServer

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
# The session slapd's directory: directory group names differ from the app's roles on purpose (the app maps them).
LDAP_USERS = (
    LdapUser("alice", password="alice-pw-1", cn="Alice Noc", mail="alice@linewatch.test"),
    LdapUser("bob", password="bob-pw-2", cn="Bob Finance", mail="bob@linewatch.test"),
    LdapUser("carol", password="carol-pw-3", cn="Carol Engineer", mail="carol@linewatch.test"),
    LdapUser("dave", password="dave-pw-4", cn="Dave Admin", mail="dave@linewatch.test"),
    LdapUser("erin", password="erin-pw-5", cn="Erin Nogroup", mail="erin@linewatch.test"),
)
LDAP_GROUPS = (
    LdapGroup("noc", members=("alice", "carol")),
    LdapGroup("finance", members=("bob",)),
    LdapGroup("engineering", members=("carol",)),
    LdapGroup("lw-admins", members=("dave",)),
)


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session (as the ``postgres`` user when we are root): ``.dsn(name)``,
    ``.connection_params(name)``, ``.create_database(name)``, ``.drop_database(name)``; see ``postgres_db``."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database on the session cluster: yields its name, drops it (ending its sessions) afterwards."""
    name = f"lw_test_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(name)
    try:
        yield name
    finally:
        if postgres_server.running:
            postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def slapd_server() -> Iterator[SlapdServer]:
    """One slapd for the session at ``.url``, base ``dc=linewatch,dc=test``, admin ``.admin_dn`` /
    ``.admin_password``, loaded with ``LDAP_USERS`` and ``LDAP_GROUPS`` (``.users``, ``.groups``; noc: alice
    and carol, finance: bob, engineering: carol, lw-admins: dave; erin is in no group). Tests that add entries
    use names of their own."""
    server = SlapdServer()
    server.start()
    try:
        server.add_users(LDAP_USERS)
        server.add_groups(LDAP_GROUPS)
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """One dovecot IMAP server for the session (as the ``dovecot`` user when we are root): plain/STARTTLS on
    ``.imap_port``, IMAPS on ``.imaps_port``, user ``.username`` / ``.password``, ``.ca_file``; ``.deliver(msg,
    mailbox=...)`` APPENDs a message, ``.imap_settings(...)`` the intake's settings. Tests use mailboxes of their
    own (``mailbox=`` a unique name), so they do not see each other's mail."""
    server = DovecotServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
