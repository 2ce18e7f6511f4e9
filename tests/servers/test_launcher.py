"""What every launcher shares (linewatch.servers.process.LocalServer): the start-up error says what happened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from linewatch.errors import ServerError
from linewatch.servers import InfluxdServer, SnmpdServer
from linewatch.servers.postgres import PostgresServer
from linewatch.servers.process import LocalServer
from linewatch.servers.slapd import SlapdServer

# start_timeout_s=0: the readiness wait gives up before the first probe, while the server is still starting.
NOT_READY_CASES: list[tuple[Callable[[Path], LocalServer], str]] = [
    (lambda tmp: InfluxdServer(tmp / "influx", start_timeout_s=0.0), r"did not answer /ping within 0\.0 s"),
    (lambda tmp: SnmpdServer(tmp / "snmpd", start_timeout_s=0.0), r"did not answer snmpget \S+ within 0\.0 s"),
    (lambda tmp: PostgresServer(start_timeout_s=0.0), r"did not accept connections within 0\.0 s"),
    (lambda tmp: SlapdServer(start_timeout_s=0.0), r"did not accept the admin bind within 0\.0 s"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("make", "reason"), NOT_READY_CASES, ids=["influxd", "snmpd", "postgres", "slapd"])
def test_server_still_starting_at_timeout_is_not_reported_as_exited(
    tmp_path: Path, make: Callable[[Path], LocalServer], reason: str
) -> None:
    """A server we stop because it was not ready in time is reported as such, not as "exited with code -15"
    (influxd, postgres and slapd read the exit code after stopping the server themselves)."""
    server = make(tmp_path)
    try:
        with pytest.raises(ServerError, match=reason) as raised:
            server.start()
        assert "exited with code" not in str(raised.value)
        assert not server.running
    finally:
        server.cleanup()
