"""The voice tests' real PBX: one Kamailio + SIPp carrier + SIPp phones for the session (``kamailio_pbx``).

Trunks (:data:`PBX_TRUNKS`): ``obs-par`` with 4 channels (extensions 41…, numbers +3318…: small, to block calls
over the limit cheaply) and ``dtag-fra`` with 30 (extensions 31…, numbers +4969310…). The carrier answers every
number except those ending in 486 (Busy Here), 480 (no answer) and 503 (congestion, Q.850 cause 34). Tests share
the PBX one after the other: each picks its own calls out of the CDR file by the caller run's Call-ID suffix
(:func:`cdr_lines_of`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.voice.pbx import Pbx, TrunkPlan
from linewatch.servers.sipp import SippRun

PBX_TRUNKS = (
    TrunkPlan("obs-par", channels=4, extensions="41", dids="3318"),
    TrunkPlan("dtag-fra", channels=30, extensions="31", dids="4969310"),
)


@pytest.fixture(scope="session")
def kamailio_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """Kamailio (as the ``kamailio`` account when we are root) with the trunks of :data:`PBX_TRUNKS`, the SIPp
    carrier and phones; ``.place(calls)`` runs a caller, ``.cdr_path`` is the CDR file, ``.kamailio`` the server."""
    pbx = Pbx(tmp_path_factory.mktemp("pbx"), trunks=PBX_TRUNKS, fr_inv_timer_ms=3000)
    pbx.start()
    try:
        yield pbx
    finally:
        pbx.cleanup()


def cdr_lines_of(pbx: Pbx, run: SippRun, *, expected: int, timeout_s: float = 5.0) -> list[str]:
    """The CDR lines of ``run``'s calls, once there are ``expected`` of them (or what there is at the timeout)."""
    deadline = time.monotonic() + timeout_s
    mine: list[str] = []
    while time.monotonic() < deadline:
        text = Path(pbx.cdr_path).read_text()
        mine = [line for line in text.splitlines() if run.call_id_suffix + "|" in line]
        if len(mine) >= expected:
            break
        time.sleep(0.1)
    return mine
