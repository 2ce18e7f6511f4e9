"""``linewatch flows listen | pcap | capture | top``: thin layer over collector.flows (parse, call, print)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
import time
from pathlib import Path

from linewatch.choices import ExitCode, FlowDirection
from linewatch.errors import ConfigError, Problem


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flows", help="NetFlow/IPFIX and packet-capture top talkers per line")
    fs = p.add_subparsers(dest="flows_command", required=True, metavar="ACTION")

    listen = fs.add_parser("listen", help="receive NetFlow v5/v9/IPFIX and write per-minute summaries (long-running)")
    listen.add_argument("--address", help="listen address (default: flows.yaml listen.address)")
    listen.add_argument("--port", type=int, help="UDP port (default: flows.yaml listen.port)")
    listen.set_defaults(func=_listen)

    pcap = fs.add_parser("pcap", help="summarize a pcap/pcapng capture of one line into InfluxDB")
    pcap.add_argument("file", type=Path)
    pcap.add_argument("--line", required=True, help="inventory line id the capture was taken on")
    pcap.add_argument("--dry-run", action="store_true", help="print the summary, write nothing")
    pcap.set_defaults(func=_pcap)

    cap = fs.add_parser("capture", help="summarize a live interface through tshark (needs capture rights)")
    cap.add_argument("--interface", required=True)
    cap.add_argument("--line", help="line id (default: flows.yaml capture.interfaces)")
    cap.add_argument("--seconds", type=float, default=0, help="stop after N seconds (0: until Ctrl-C)")
    cap.set_defaults(func=_capture)

    top = fs.add_parser("top", help="print the top talkers of a line over a time window")
    top.add_argument("--line", required=True)
    top.add_argument("--from", dest="from_", default="-15m", help="start: now, -15m, epoch s or ISO 8601")
    top.add_argument("--to", default="now", help="end (exclusive), same forms")
    top.add_argument("--direction", choices=[d.value for d in FlowDirection])
    top.add_argument("--limit", type=int, default=20)
    top.set_defaults(func=_top)


def _load(args: argparse.Namespace):
    from collector.flows.config import load_for_settings
    from linewatch.settings import load_settings

    settings = load_settings(args.config)
    cfg, inventory = load_for_settings(settings)
    return settings, cfg, inventory


def _check_line(inventory, line: str) -> None:
    if line not in inventory.lines_by_id:
        known = ", ".join(sorted(inventory.lines_by_id))
        raise ConfigError([Problem("--line", None, "line", f"unknown line {line!r} (known: {known})")])


def template_path(settings, cfg) -> Path:
    path = cfg.template_state_path
    return path if path.is_absolute() else settings.resolve(settings.state_dir) / path


def _writer(settings, *, max_retry_s: float | None = None):
    import logging

    from linewatch.errors import InfluxError
    from linewatch.influx import PointWriter

    # The resolved settings: a relative spool path is relative to the config file's folder, like every other
    # path of linewatch.yaml, not to the folder the command was started in.
    influx = settings.influx_settings()
    overrides = {} if max_retry_s is None else {"max_retry_s": min(influx.max_retry_s, max_retry_s)}
    writer = PointWriter.from_settings(influx, **overrides)
    try:
        writer.client.ensure_database()
    except InfluxError as exc:  # InfluxDB may be down at start: points go to the spool until it returns
        logging.getLogger(__name__).warning("InfluxDB not ready (%s); points will be spooled until it is", exc)
    return writer


def _listen(args: argparse.Namespace) -> int:
    from collector.flows.service import FlowService, ThreadedSink, run_receiver

    settings, cfg, inventory = _load(args)
    # Retrying a batch longer than a quarter of a bucket only delays the next ones (and the exit on SIGTERM):
    # past that, batches go to the spool and are replayed when InfluxDB answers again.
    writer = _writer(settings, max_retry_s=cfg.interval_s / 4)
    sink = ThreadedSink(writer.write)
    service = FlowService(cfg, inventory, sink=sink, template_path=template_path(settings, cfg))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_receiver(service, address=args.address or cfg.listen.address, port=args.port or cfg.listen.port,
                           stop=stop, receive_buffer_bytes=cfg.listen.receive_buffer_bytes,
                           on_ready=lambda port: print(f"listening for flows on UDP port {port}", flush=True),
                           collector_name=settings.collector.name)

    try:
        asyncio.run(main())
    finally:
        sink.close()
        writer.close()
    return ExitCode.OK


def _pcap(args: argparse.Namespace) -> int:
    from collector.flows.aggregate import FlowAggregator, summary_points
    from collector.flows.capture import summarize_file
    from collector.flows.linemap import LocalNetworks

    settings, cfg, inventory = _load(args)
    _check_line(inventory, args.line)
    agg = FlowAggregator(interval_s=cfg.interval_s, top_n=cfg.top_n, max_conversations=cfg.max_conversations)
    stats = summarize_file(args.file, line=args.line, aggregator=agg, local=LocalNetworks(cfg.local_networks))
    summaries = agg.flush_all()
    points = summary_points(summaries)
    total = sum(s.total_bytes for s in summaries)
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())) or "none"
    print(f"{args.file}: {stats.packets} frames, {stats.ip_packets} IP packets, {total} IP bytes, "
          f"{len(summaries)} line/direction/{cfg.interval_s}s buckets; skipped: {skipped}")
    if args.dry_run:
        for s in summaries:
            for rank, c in enumerate(s.top, 1):
                print(f"  {s.start_s} {s.direction:<3} #{rank:<2} {c.src} -> {c.dst} {c.proto}/{c.dst_port} "
                      f"{c.bytes} B")
        return ExitCode.OK
    writer = _writer(settings)
    try:
        writer.write(points)
        st = writer.stats()
    finally:
        writer.close()
    print(f"wrote {len(points)} points to {settings.influx.url} database {settings.influx.database}"
          + (f" ({st.spooled_batches} batches spooled: InfluxDB unreachable)" if st.spooled_batches else ""))
    return ExitCode.OK


def _capture(args: argparse.Namespace) -> int:
    from collector.flows.aggregate import FlowAggregator, summary_points
    from collector.flows.capture import summarize_packets, tshark_command, tshark_packets
    from collector.flows.linemap import LocalNetworks

    settings, cfg, inventory = _load(args)
    line = args.line or cfg.capture.interfaces.get(args.interface)
    if line is None:
        raise ConfigError([Problem("--line", None, "line",
                                   f"no line for interface {args.interface!r}: give --line or capture.interfaces")])
    _check_line(inventory, line)
    writer = _writer(settings)
    agg = FlowAggregator(interval_s=cfg.interval_s, top_n=cfg.top_n, max_conversations=cfg.max_conversations,
                         flush_delay_s=0)
    stop = threading.Event()
    if args.seconds:
        timer = threading.Timer(args.seconds, stop.set)
        timer.daemon = True
        timer.start()
    cmd = tshark_command(interface=args.interface, bpf_filter=cfg.capture.bpf_filter)
    last_flush = time.monotonic()

    def packets():
        nonlocal last_flush
        for pkt in tshark_packets(cmd, stop=stop, on_error=lambda m: print(f"error: {m}", file=sys.stderr)):
            yield pkt
            if time.monotonic() - last_flush > 5:
                last_flush = time.monotonic()
                writer.write(summary_points(agg.flush()))

    try:
        summarize_packets(packets(), line=line, aggregator=agg, local=LocalNetworks(cfg.local_networks))
    except KeyboardInterrupt:
        pass
    finally:
        writer.write(summary_points(agg.flush_all()))
        writer.close()
        stop.set()
    return ExitCode.OK


def _top(args: argparse.Namespace) -> int:
    from collector.flows.query import format_table, parse_time, top_talkers
    from linewatch.influx import InfluxClient
    from linewatch.settings import load_settings

    settings = load_settings(args.config)
    now = time.time()
    try:
        start, end = parse_time(args.from_, now_s=now), parse_time(args.to, now_s=now)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.CONFIG_ERROR
    if end <= start:
        print(f"error: --to ({end}) must be after --from ({start})", file=sys.stderr)
        return ExitCode.CONFIG_ERROR
    with InfluxClient(settings.influx) as client:
        top = top_talkers(client, line=args.line, start_s=start, end_s=end, limit=args.limit,
                          direction=args.direction)
    print(format_table(top))
    return ExitCode.OK
