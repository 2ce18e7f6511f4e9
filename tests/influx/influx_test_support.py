"""Helpers of the influx tests (imported by conftest.py and the tests): scripted HTTP server, fake clock."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler


@dataclass
class ScriptedInflux:
    """A tiny HTTP server on 127.0.0.1 answering ``/write`` with the scripted statuses, then 204 forever.

    ``bodies`` holds every (decompressed) write body received, in order, whatever the answer was.
    """

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self, body: bytes) -> int:
        with self.lock:
            self.bodies.append(body)
            return self.statuses.pop(0) if self.statuses else 204


def _handler(script: ScriptedInflux) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            status = script.next_status(raw)
            payload = b"" if status == 204 else b'{"error":"scripted error %d"}' % status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self.send_response(204)
            self.send_header("X-Influxdb-Version", "scripted")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


class FakeClock:
    """``clock()`` returns fake monotonic seconds; ``sleep(s)`` records ``s`` and advances the clock."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now_s

    def sleep(self, duration_s: float) -> None:
        self.sleeps.append(duration_s)
        self.now_s += duration_s
