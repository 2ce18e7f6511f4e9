"""The snmpd launcher: answers v2c and each v3 user on loopback only, refuses wrong credentials."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from linewatch.errors import ServerError
from linewatch.servers import SnmpdServer, SnmpV3User
from linewatch.servers import process as server_process
from linewatch.servers.snmpd import SYS_LOCATION_OID, SYS_NAME_OID, SYS_UPTIME_OID

GOOD_USER = {"user": "u", "auth_protocol": "SHA", "auth_key": "authpass-123",
             "priv_protocol": "AES", "priv_key": "privpass-456"}  # fmt: skip


@pytest.mark.parametrize(
    "user", [None, "lwsha", "lwsha256"], ids=["v2c", "v3-sha-aes128", "v3-sha256-aes256"]
)
def test_snmpget_cli_reads_system_group(snmpd: SnmpdServer, user: str | None) -> None:
    assert snmpd.snmpget(SYS_NAME_OID, user=user) == f'"{snmpd.sys_name}"'
    assert snmpd.snmpget(SYS_LOCATION_OID, user=user) == f'"{snmpd.sys_location}"'


@pytest.mark.parametrize(
    ("community", "user_override", "message"),
    [
        ("wrong", None, "Timeout"),
        (None, {"auth_key": "wrongpass-1"}, "Authentication failure"),
        (None, {"priv_key": "wrongpass-1"}, "Timeout|Decryption"),
        (None, {"auth_protocol": "SHA-512"}, "Authentication failure"),
        (None, {"priv_protocol": "AES-128"}, "Timeout|Decryption"),
    ],
    ids=["wrong-community", "wrong-auth-key", "wrong-priv-key", "wrong-auth-protocol", "wrong-priv-protocol"],
)
def test_wrong_credentials_get_no_answer(
    snmpd: SnmpdServer,
    tmp_path: Path,
    community: str | None,
    user_override: dict[str, str] | None,
    message: str,
) -> None:
    """A client view of the same agent (never started) with one credential changed must not get a value."""
    base = snmpd.user("lwsha256")
    spec = {"user": base.user, "auth_protocol": base.auth_protocol.value, "auth_key": base.auth_key,
            "priv_protocol": base.priv_protocol.value, "priv_key": base.priv_key}  # fmt: skip
    users = [] if user_override is None else [{**spec, **user_override}]
    client = SnmpdServer(tmp_path, port=snmpd.port, community=community, v3_users=users)
    with pytest.raises(ServerError, match=message):
        client.snmpget(SYS_UPTIME_OID, user=None if user_override is None else base.user, timeout_s=0.3)


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss")
def test_only_listener_is_the_loopback_udp_port(snmpd: SnmpdServer) -> None:
    out = subprocess.run(["ss", "-H", "-lntup"], capture_output=True, text=True, check=True).stdout
    mine = [line.split()[4] for line in out.splitlines() if f"pid={snmpd.pid}," in line]
    assert mine == [snmpd.address]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"auth_protocol": "SHA1"}, "auth_protocol 'SHA1' is not one of"),
        ({"priv_protocol": "3DES"}, "priv_protocol '3DES' is not one of"),
        ({"auth_key": "short"}, "auth_key must be at least 8"),
        ({"priv_key": "has space"}, "priv_key must be at least 8 characters without whitespace"),
        ({"user": ""}, "must be non-empty"),
    ],
    ids=["unknown-auth", "unknown-priv", "short-auth-key", "space-in-priv-key", "empty-user"],
)
def test_bad_v3_user_spec_is_rejected_with_reason(override: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SnmpV3User.from_mapping({**GOOD_USER, **override})


def test_v3_user_repr_hides_keys() -> None:
    text = repr(SnmpV3User.from_mapping(GOOD_USER))
    assert "authpass-123" not in text and "privpass-456" not in text


@pytest.mark.parametrize(
    ("spec_priv", "netsnmp_priv"),
    [("AES", "AES"), ("AES-128", "AES"), ("AES-256", "AES-256")],
    ids=["aes-alias", "aes-128", "aes-256"],
)
def test_priv_protocol_maps_to_netsnmp_name(spec_priv: str, netsnmp_priv: str) -> None:
    assert SnmpV3User.from_mapping({**GOOD_USER, "priv_protocol": spec_priv}).netsnmp_priv == netsnmp_priv


def test_missing_snmpd_names_package_and_installer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(server_process, "_SYSTEM_DIRS", ())
    with pytest.raises(ServerError, match="snmpd not found.*'snmpd'.*scripts/ensure-sysdeps.sh"):
        SnmpdServer(tmp_path / "x").start()


def test_restart_keeps_port_and_v3_users(tmp_path: Path) -> None:
    with SnmpdServer(tmp_path / "agent", community=None, v3_users=[GOOD_USER]) as server:
        port = server.port
        server.restart()
        assert server.port == port
        assert server.snmpget(SYS_NAME_OID, user="u") == f'"{server.sys_name}"'
