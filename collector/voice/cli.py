"""``linewatch voice run | import | status | rebuild``: thin layer over collector.voice (parse, call, print).

Exit codes (:class:`~linewatch.choices.ExitCode`): 0 OK, 1 runtime failure, 2 configuration problem, 3 some CDR
rows were quarantined (``import``; ``run --once``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from linewatch.choices import ExitCode
from linewatch.errors import ConfigError, Problem

PROBLEMS_SHOWN = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("voice", help="voice trunks: CDRs, concurrent calls, Erlangs, call costs (docs/voice.md)")
    vs = p.add_subparsers(dest="voice_command", required=True, metavar="ACTION")

    run = vs.add_parser("run", help="tail the CDR sources, poll live concurrency, write per-minute measurements "
                                    "(long-running)")
    run.add_argument("--once", action="store_true", help="one cycle, then exit (3 if rows were quarantined)")
    run.set_defaults(func=_run)

    imp = vs.add_parser("import", help="load a CDR file once (a backfill, a carrier's export) into the call store "
                                       "and InfluxDB")
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", required=True, help="the voice.yaml source whose format, layout and zone it has")
    imp.set_defaults(func=_import)

    status = vs.add_parser("status", help="the call store: calls, where each source was read to, quarantined rows")
    status.add_argument("--problems", type=int, default=10, metavar="N", help="show the N latest quarantined rows")
    status.set_defaults(func=_status)

    rebuild = vs.add_parser("rebuild", help="re-compute and rewrite the voice measurements of a time window from "
                                            "the call store (after a change of a line's channels or plan)")
    rebuild.add_argument("--from", dest="from_", required=True, help="start: -7d, epoch s or ISO 8601 (UTC)")
    rebuild.add_argument("--to", default="now", help="end (exclusive), same forms")
    rebuild.set_defaults(func=_rebuild)


def _load(args: argparse.Namespace):
    from linewatch.inventory_source import load_configured_inventory
    from linewatch.settings import load_settings
    from linewatch.voice.config import load_voice_config

    settings = load_settings(args.config)
    inventory = load_configured_inventory(settings)
    return settings, inventory, load_voice_config(settings, inventory)


def _run(args: argparse.Namespace) -> int:
    from collector.voice.service import VoiceService

    settings, inventory, config = _load(args)
    if not config.sources and not config.live:
        print("note: voice.yaml has no sources and no live sources: nothing to collect", file=sys.stderr)
    with VoiceService(settings, inventory=inventory, config=config) as service:
        if args.once:
            report = service.cycle()
            print(report.summary())
            return ExitCode.INPUT_REJECTED if report.quarantined else ExitCode.OK
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        print(f"voice collector: {len(config.sources)} CDR source(s), {len(config.live)} live source(s), every "
              f"{service.interval_s:g} s; store {service.store.path}", flush=True)
        service.run(stop, on_cycle=lambda report: print(report.summary(), flush=True))
    return ExitCode.OK


def _import(args: argparse.Namespace) -> int:
    from collector.voice.importer import import_file
    from collector.voice.pipeline import VoicePipeline
    from collector.voice.service import make_writer
    from linewatch.voice.store import open_store

    settings, inventory, config = _load(args)
    source = config.source(args.source)
    if source is None:
        known = ", ".join(s.name for s in config.sources) or "none in voice.yaml"
        raise ConfigError([Problem("--source", None, "source", f"unknown source {args.source!r} (known: {known})")])
    if not args.file.is_file():
        raise ConfigError([Problem(str(args.file), None, "", "file not found")])
    writer = make_writer(settings)
    began = time.perf_counter()
    try:
        with open_store(settings, config) as store:
            summary = import_file(args.file, source, VoicePipeline(config, inventory, store, writer))
        spooled = writer.stats().spooled_batches
    finally:
        writer.close()
    print(f"{args.file}: {summary.rows} rows, {summary.loaded} calls loaded, {summary.duplicates} already stored, "
          f"{summary.quarantined} quarantined ({time.perf_counter() - began:.1f} s)"
          + (f"; {spooled} batches spooled (InfluxDB unreachable)" if spooled else ""))
    for problem in summary.problems[:PROBLEMS_SHOWN]:
        print(f"quarantined: {problem}", file=sys.stderr)
    if len(summary.problems) > PROBLEMS_SHOWN:
        print(f"... and {len(summary.problems) - PROBLEMS_SHOWN} more (linewatch voice status --problems N)",
              file=sys.stderr)
    return ExitCode.INPUT_REJECTED if summary.quarantined else ExitCode.OK


def _status(args: argparse.Namespace) -> int:
    from linewatch.voice.store import CallStoreError, open_store, store_path

    settings, _, config = _load(args)
    try:
        store = open_store(settings, config, read_only=True)
    except CallStoreError as exc:
        print(str(exc))
        return ExitCode.OK
    now = time.time()
    with store:
        print(f"call store {store_path(settings, config)}: {store.count()} calls, "
              f"{store.count(start_s=now - 86400, end_s=now + 1)} in the last 24 h, "
              f"{store.problem_count()} rows quarantined")
        offsets = {o.source: o for o in store.offsets()}
        for source in config.sources:
            offset = offsets.get(source.name)
            where = (f"read to row {offset.row} (byte {offset.offset}) of {offset.path}" if offset
                     else "not read yet")
            print(f"  {source.name} ({source.format.value}, {source.path}): {where}; "
                  f"{store.problem_count(source=source.name)} quarantined")
        for problem in store.problems(limit=args.problems):
            print(f"quarantined: {problem}")
    return ExitCode.OK


def _rebuild(args: argparse.Namespace) -> int:
    from collector.flows.query import parse_time
    from collector.voice.pipeline import VoicePipeline
    from collector.voice.service import make_writer
    from linewatch.voice.store import open_store

    settings, inventory, config = _load(args)
    now = time.time()
    try:
        start, end = parse_time(args.from_, now_s=now), parse_time(args.to, now_s=now)
    except ValueError as exc:
        raise ConfigError([Problem("--from/--to", None, "", str(exc))]) from None
    if end <= start:
        raise ConfigError([Problem("--to", None, "", f"--to ({end}) must be after --from ({start})")])
    writer = make_writer(settings)
    try:
        with open_store(settings, config) as store:
            written = VoicePipeline(config, inventory, store, writer).rebuild(start, end)
    finally:
        writer.close()
    print(f"rewrote {written} voice points of {start:.0f}..{end:.0f}")
    return ExitCode.OK
