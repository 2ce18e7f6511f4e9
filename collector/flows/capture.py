"""Capture summaries: a pcap/pcapng file (read directly, :mod:`collector.flows.pcap`) or a live interface
(``tshark -T fields`` streaming, one line per packet) into the same per-line top talkers as NetFlow.

pyshark is not used anywhere: it wraps tshark's PDML output and decodes a few hundred packets per second.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from collector.flows.aggregate import IN, OUT, FlowAggregator
from collector.flows.linemap import LocalNetworks
from collector.flows.pcap import CaptureStats, Packet, iter_packets
from linewatch.errors import CaptureError

log = logging.getLogger(__name__)

TSHARK_FIELDS = ("frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.proto", "ipv6.nxt",
                 "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "ip.len", "ipv6.plen")


def summarize_packets(packets: Iterable[Packet], *, line: str, aggregator: FlowAggregator,
                      local: LocalNetworks) -> int:
    """Count packets of one line into ``aggregator``; direction ``out`` when the source is local. Returns packets."""
    add = aggregator.add
    n = 0
    for ts, src, dst, proto, sport, dport, nbytes in packets:
        add(line, OUT if local(src) else IN, ts, src, dst, proto, sport, dport, nbytes, 1)
        n += 1
    return n


def summarize_file(path: Path | str, *, line: str, aggregator: FlowAggregator, local: LocalNetworks,
                   stats: CaptureStats | None = None) -> CaptureStats:
    """Summarize a capture file of ``line``; return what was read and skipped."""
    stats = stats if stats is not None else CaptureStats()
    summarize_packets(iter_packets(path, stats), line=line, aggregator=aggregator, local=local)
    return stats


def tshark_command(*, interface: str | None = None, file: Path | None = None, bpf_filter: str | None = None,
                   tshark: str = "tshark") -> list[str]:
    cmd = [tshark, "-n", "-l", "-Q"]
    if interface is not None:
        cmd += ["-i", interface]
        if bpf_filter:
            cmd += ["-f", bpf_filter]
    elif file is not None:
        cmd += ["-r", str(file)]
    else:
        raise ValueError("give interface or file")
    cmd += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    return cmd


def parse_tshark_line(text: str) -> Packet | None:
    """One ``-T fields`` line (see :data:`TSHARK_FIELDS`) -> Packet; None for non-IP or unparsable lines."""
    parts = text.rstrip("\n").split("\t")
    if len(parts) != len(TSHARK_FIELDS):
        return None
    ts, s4, d4, s6, d6, p4, p6, tsp, tdp, usp, udp_, len4, plen6 = parts
    try:
        if s4 and d4:
            src, dst = ipaddress.IPv4Address(s4).packed, ipaddress.IPv4Address(d4).packed
            proto, nbytes = int(p4), int(len4)
        elif s6 and d6:
            src, dst = ipaddress.IPv6Address(s6).packed, ipaddress.IPv6Address(d6).packed
            proto, nbytes = int(p6), int(plen6) + 40
        else:
            return None
        sport = int(tsp or usp or 0)
        dport = int(tdp or udp_ or 0)
        return float(ts), src, dst, proto, sport, dport, nbytes
    except ValueError:
        return None


def tshark_packets(cmd: list[str], *, stop: threading.Event | None = None,
                   on_error: Callable[[str], None] | None = None) -> Iterator[Packet]:
    """Stream packets from a running tshark (live interface or file) until it ends or ``stop`` is set."""
    if shutil.which(cmd[0]) is None:
        raise CaptureError(f"{cmd[0]} not found (Debian package tshark)")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    assert proc.stdout is not None
    if stop is not None:
        def watch() -> None:  # a quiet interface must not keep us blocked on read after stop
            while proc.poll() is None:
                if stop.wait(0.2):
                    proc.terminate()
                    return

        threading.Thread(target=watch, name="tshark-stop", daemon=True).start()
    try:
        for text in proc.stdout:
            if stop is not None and stop.is_set():
                break
            pkt = parse_tshark_line(text)
            if pkt is not None:
                yield pkt
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err = proc.stderr.read() if proc.stderr else ""
        if proc.returncode not in (0, None, -15) and err.strip():
            message = f"tshark ({' '.join(cmd[:4])} ...) exited {proc.returncode}: {err.strip()[-300:]}"
            if on_error is not None:
                on_error(message)
            else:
                raise CaptureError(message)
