"""Fixtures for the real-device tests: one snmpsim for the session serving the recordings of snmpsim_devices.

snmpsim runs from its own venv (``scripts/ensure-snmpsim.sh``, run by ``make test``); as root it drops to
nobody/nogroup, with its data and cache in a private temporary folder it owns. Start-up (index build of the
nine copied recordings) takes about 10 s on an idle 2-core machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from snmpsim_devices import RECORDINGS

from linewatch.errors import ServerError
from linewatch.servers.snmpsim import SnmpsimServer, find_snmpsim_venv


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpsimServer]:
    """snmpsim on a loopback port; each recording is the community named after it (``.recording(name)``)."""
    try:
        venv = find_snmpsim_venv()
    except ServerError as exc:
        pytest.fail(str(exc))
    server = SnmpsimServer(tmp_path_factory.mktemp("snmpsim"), RECORDINGS, venv=venv)
    server.start()
    try:
        yield server
    finally:
        server.stop()
