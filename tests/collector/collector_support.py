"""Shared by the collector tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Clock:
    """The wall clock the collector (reading times) and the simulated devices (counters, sysUpTime) share, advanced
    by the test: rates are exact regardless of how long a poll takes."""

    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now
