"""``linewatch collect``: run the SNMP collector (long-running, or one cycle with ``--once``)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from linewatch.choices import ExitCode
from linewatch.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("collect", help="poll the devices over SNMP and write line traffic to InfluxDB")
    p.add_argument("--once", action="store_true",
                   help="run one cycle, print a per-line table; exit 1 if a device failed, 3 if a line's interface "
                        "could not be located")
    p.add_argument("--quiet", action="store_true", help="do not print the per-line table each cycle")
    p.set_defaults(func=_collect)


def _collect(args: argparse.Namespace) -> int:
    from collector.runner import build_collector, run_forever
    from collector.service import format_report

    settings = load_settings(args.config)
    collector = build_collector(settings)

    if args.once:
        async def once() -> int:
            try:
                report = await collector.run_cycle()
            finally:
                await collector.close()
                collector.writer.close()
            print(format_report(report))
            if report.failed_devices:
                return ExitCode.RUNTIME_ERROR
            return ExitCode.INPUT_REJECTED if report.unresolved_lines else ExitCode.OK

        return asyncio.run(once())

    async def forever() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_forever(collector, stop=stop,
                          on_report=None if args.quiet else (lambda r: print(format_report(r), flush=True)))

    asyncio.run(forever())
    return ExitCode.OK


