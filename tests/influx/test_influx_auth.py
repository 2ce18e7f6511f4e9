"""Authentication: HTTP Basic for username/password (1.x), ``Authorization: Token`` for 2.x/3.x."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from linewatch.errors import InfluxAuthFailed
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.servers import InfluxdServer


@pytest.fixture
def influxd_with_auth(tmp_path: Path) -> Iterator[InfluxdServer]:
    with InfluxdServer(tmp_path / "influxd-auth", auth_enabled=True) as server:
        # influxd 1.x lets the first admin user be created without credentials.
        requests.post(
            f"{server.url}/query",
            data={"q": "CREATE USER admin WITH PASSWORD 'right-pw' WITH ALL PRIVILEGES"},
            timeout=10,
        ).raise_for_status()
        yield server


def test_basic_auth_with_the_right_password_writes(influxd_with_auth: InfluxdServer) -> None:
    settings = InfluxSettings(url=influxd_with_auth.url, database="lw", username="admin", password="right-pw")
    with InfluxClient(settings) as client:
        client.ensure_database()
        client.write(b"m v=1 1000000000\n")
        assert client.query("SELECT v FROM m")[0]["values"] == [[1, 1]]


def test_wrong_password_is_rejected_not_retried(influxd_with_auth: InfluxdServer) -> None:
    settings = InfluxSettings(url=influxd_with_auth.url, database="lw", username="admin", password="wrong-pw")
    with InfluxClient(settings) as client, pytest.raises(InfluxAuthFailed, match="401.*authorization failed"):
        client.write(b"m v=1 1000000000\n")


def test_token_is_sent_as_authorization_header() -> None:
    with InfluxClient(InfluxSettings(token="tok-123")) as client:
        request = client._session.prepare_request(requests.Request("GET", f"{client.settings.url}/ping"))
    assert request.headers["Authorization"] == "Token tok-123"
