"""Drive Debian's ``softflowd`` to turn a capture file into NetFlow v5/v9/IPFIX datagrams (tests, bench, demo).

softflowd 1.1.0 reading a file (``-r``) processes packets only while its control socket is talked to and does not
exit at end of file by itself: we poll ``softflowctl statistics`` until every packet is processed, then send
``shutdown``, which expires and exports every flow before it exits.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from linewatch.errors import CaptureError

_PROCESSED = re.compile(r"Packets processed:\s*(\d+)")


def available() -> bool:
    return shutil.which("softflowd") is not None and shutil.which("softflowctl") is not None


def export_capture(
    pcap: Path,
    destinations: Sequence[tuple[str, int]],
    *,
    version: int,
    workdir: Path,
    packets: int,
    sampling: int | None = None,
    timeout_s: float = 60.0,
) -> str:
    """Run softflowd over ``pcap`` (``packets`` frames) exporting to every destination; return its final stats.

    Raises :class:`~linewatch.errors.CaptureError` when softflowd is missing, fails or does not finish in time.
    """
    if not available():
        raise CaptureError("softflowd/softflowctl not installed (Debian package softflowd)")
    workdir.mkdir(parents=True, exist_ok=True)
    ctl = workdir / f"softflowd-{version}.ctl"
    pid = workdir / f"softflowd-{version}.pid"
    cmd = ["softflowd", "-d", "-r", str(pcap), "-v", str(version), "-c", str(ctl), "-p", str(pid),
           "-t", "maxlife=60", "-t", "expint=1"]
    for host, port in destinations:
        cmd += ["-n", f"{host}:{port}"]
    if sampling:
        cmd += ["-s", str(sampling)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if proc.poll() is not None:
                output = proc.stdout.read() if proc.stdout else ""
                if proc.returncode == 0 and "pcap EOF" in output:
                    return output  # with sampling, softflowd reaches EOF and exits by itself
                raise CaptureError(f"softflowd exited early ({proc.returncode}) on {pcap}: {output.strip()[-500:]}")
            if time.monotonic() > deadline:
                raise CaptureError(f"softflowd did not finish {pcap} within {timeout_s:g} s")
            if ctl.exists():
                res = subprocess.run(["softflowctl", "-c", str(ctl), "statistics"], capture_output=True,
                                     text=True, timeout=10, check=False)
                m = _PROCESSED.search(res.stdout)
                if m and int(m.group(1)) >= packets:
                    break
            time.sleep(0.02)
        subprocess.run(["softflowctl", "-c", str(ctl), "shutdown"], capture_output=True, timeout=10, check=False)
        output, _ = proc.communicate(timeout=timeout_s)
        return output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def record_export(pcap: Path, *, version: int, workdir: Path, packets: int, sampling: int | None = None,
                  idle_s: float = 0.5) -> list[bytes]:
    """Export ``pcap`` with softflowd to a loopback socket of ours and return the datagrams, in arrival order."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024 * 1024)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(idle_s)
        export_capture(pcap, [sock.getsockname()], version=version, workdir=workdir, packets=packets,
                       sampling=sampling)
        recorded = []
        while True:
            try:
                data, _ = sock.recvfrom(65535)
            except TimeoutError:
                return recorded
            recorded.append(data)
    finally:
        sock.close()
