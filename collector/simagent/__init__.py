"""Simulated SNMPv2c agent serving IF-MIB for many devices (tests, benchmarks, demo).

In-process: ``SimAgent([...]).start()``; subprocess: ``python -m collector.simagent --spec FILE.json``.
"""

from collector.simagent.agent import DeviceResponder, SimAgent, serve_device
from collector.simagent.model import ConstantRateModel, CounterModel, CounterSample, SimDevice, SimInterface

__all__ = [
    "ConstantRateModel",
    "CounterModel",
    "CounterSample",
    "DeviceResponder",
    "SimAgent",
    "SimDevice",
    "SimInterface",
    "serve_device",
]
