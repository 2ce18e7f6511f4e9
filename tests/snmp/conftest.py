"""Fixtures for the SNMP tests: the simulated agent in a background thread, with an injected uptime clock.

The real net-snmp ``snmpd`` is the session fixture ``snmpd`` of ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collector.simagent import SimAgent, SimDevice


class FakeClock:
    """A monotonic clock the test advances by hand."""

    def __init__(self, now_s: float = 1000.0):
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[SimAgent]:
    """A running agent with devices r1 (4 interfaces, community "public") and r2 (2 interfaces, "c2")."""
    r1 = SimDevice.with_interfaces("r1", 4, clock=clock, uptime_base_s=clock() - 10.0)
    r2 = SimDevice.with_interfaces("r2", 2, community="c2", clock=clock, uptime_base_s=clock())
    agent = SimAgent([r1, r2]).start()
    try:
        yield agent
    finally:
        agent.stop()
