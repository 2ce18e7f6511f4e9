"""Fixtures of the influx tests: a scripted loopback HTTP server (for retry logic) and a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from influx_test_support import FakeClock, ScriptedInflux, _handler


@pytest.fixture
def scripted_influx() -> Iterator[ScriptedInflux]:
    script = ScriptedInflux()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    script.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
