"""Run the simulated agent as a process: ``python -m collector.simagent --spec FILE.json``.

Spec (JSON)::

    {
      "devices": [
        {"name": "r1", "community": "public", "interfaces": 1000, "port": 0},
        {"name": "r2", "interfaces": [{"if_index": 5, "name": "xe-0/0/0", "speed_bps": 10000000000}],
         "request_delays_s": [2.5, 0.5]}
      ],
      "model": "collector.simagent.model:ConstantRateModel",   # optional "module:callable" returning a CounterModel
      "model_args": {"in_bps": 1e7}                             # optional keyword arguments for it
    }

``interfaces`` is a count (ifIndex 1..N) or a list of SimInterface fields plus ``if_index``. ``request_delays_s``
(optional) makes the device busy that many seconds before it answers each request, in turn (a slow device). ``port`` 0 (default)
picks a free port. Once every device is listening the process prints one line ``READY {"r1": PORT, ...}`` on
stdout (and writes the same JSON to ``--ports-file`` if given), then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from collector.simagent.agent import serve_device
from collector.simagent.model import CounterModel, SimDevice, SimInterface

_DEVICE_KEYS = {"name", "community", "interfaces", "port", "sys_descr", "request_delays_s"}


class SpecError(ValueError):
    """The spec file is invalid; the message names the file and the field."""


def load_model(ref: str, args: dict[str, Any]) -> CounterModel:
    module, _, attr = ref.partition(":")
    if not attr:
        raise SpecError(f"model {ref!r} must be 'module:callable'")
    factory = getattr(importlib.import_module(module), attr)
    return factory(**args)


def devices_from_spec(
    spec: dict[str, Any], where: str
) -> tuple[list[tuple[SimDevice, int]], CounterModel | None]:
    """Parse a spec dict into (device, port) pairs and the model; raises SpecError naming ``where``."""
    if not isinstance(spec.get("devices"), list) or not spec["devices"]:
        raise SpecError(f"{where}: 'devices' must be a non-empty list")
    model = load_model(spec["model"], spec.get("model_args", {})) if spec.get("model") else None
    out = []
    for n, d in enumerate(spec["devices"]):
        at = f"{where}: devices[{n}]"
        if not isinstance(d, dict) or "name" not in d:
            raise SpecError(f"{at}: needs at least a 'name'")
        unknown = set(d) - _DEVICE_KEYS
        if unknown:
            raise SpecError(f"{at}: unknown keys {sorted(unknown)} (allowed: {sorted(_DEVICE_KEYS)})")
        ifs = d.get("interfaces", 0)
        if isinstance(ifs, int):
            dev = SimDevice.with_interfaces(d["name"], ifs, community=d.get("community", "public"))
        elif isinstance(ifs, list):
            interfaces = {}
            for k, row in enumerate(ifs):
                row = dict(row)
                try:
                    interfaces[int(row.pop("if_index"))] = SimInterface(**row)
                except (KeyError, TypeError, ValueError) as exc:
                    raise SpecError(f"{at}.interfaces[{k}]: {exc}") from None
            dev = SimDevice(name=d["name"], community=d.get("community", "public"), interfaces=interfaces)
        else:
            raise SpecError(f"{at}.interfaces: must be a count or a list")
        if "sys_descr" in d:
            dev.sys_descr = d["sys_descr"]
        if "request_delays_s" in d:
            try:
                dev.set_request_delays(d["request_delays_s"])
            except (TypeError, ValueError) as exc:
                raise SpecError(f"{at}.request_delays_s: {exc}") from None
        dev.model = model
        out.append((dev, int(d.get("port", 0))))
    names = [d.name for d, _ in out]
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: device names must be unique")
    return out, model


async def serve(devices: list[tuple[SimDevice, int]], ports_file: Path | None) -> None:
    ports = {}
    transports = []
    for dev, port in devices:
        t, ports[dev.name] = await serve_device(dev, port=port)
        transports.append(t)
    line = json.dumps(ports)
    if ports_file:
        ports_file.write_text(line)
    print(f"READY {line}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for t in transports:
        t.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m collector.simagent", description=__doc__.splitlines()[0])
    p.add_argument("--spec", required=True, type=Path, help="JSON spec of devices (see module docstring)")
    p.add_argument("--ports-file", type=Path, help="also write the {device: port} JSON here")
    a = p.parse_args(argv)
    try:
        spec = json.loads(a.spec.read_text())
        devices, _ = devices_from_spec(spec, str(a.spec))
    except (OSError, json.JSONDecodeError, SpecError, ImportError, AttributeError) as exc:
        print(f"simagent: {a.spec}: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve(devices, a.ports_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
