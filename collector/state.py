"""Persisted counter state: the last reading of every line member (interface), so a collector restart does not lose
a sample interval."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from collector.snmp.counters import Reading
from linewatch.fileperms import ensure_private_dir

log = logging.getLogger(__name__)
STATE_VERSION = 2  # 2: one reading per line member (``interface``); version 1 files (one per line) still load
_READABLE = (1, 2)


class CounterState:
    """Last reading per (device, line, member interface). Saved atomically after each cycle; a damaged file is
    reported and ignored."""

    def __init__(self, path: Path | None):
        self.path = path
        self.readings: dict[tuple[str, str, str | None], Reading] = {}

    def get(self, device: str, line_id: str, interface: str | None = None) -> Reading | None:
        """The last reading of ``line_id``'s member ``interface`` (its label) on ``device``. A reading kept per line
        (version 1 file) stands for the line's member on that device (a moved ifIndex is caught by the rate math);
        without ``interface``, the line's first member on ``device``."""
        found = self.readings.get((device, line_id, interface))
        if found is not None:
            return found
        if interface is not None:
            return self.readings.get((device, line_id, None))
        return next((r for (d, line, _), r in self.readings.items() if d == device and line == line_id), None)

    def put(self, device: str, line_id: str, reading: Reading, interface: str | None = None) -> None:
        self.readings[(device, line_id, interface)] = reading
        if interface is not None:
            self.readings.pop((device, line_id, None), None)  # a version 1 reading, now replaced by the member's

    def load(self) -> int:
        """Read the state file; returns how many readings were restored."""
        if self.path is None or not self.path.exists():
            return 0
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("version") not in _READABLE:
                raise ValueError(f"unsupported state version {doc.get('version')!r}")
            self.readings = {
                (r["device"], r["line"], r.get("interface")):
                    Reading(**{k: v for k, v in r.items() if k not in ("device", "line", "interface")})
                for r in doc["readings"]
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: counter state unreadable (%s); starting without it — the first poll gives no rates",
                        self.path, exc)
            self.readings = {}
        return len(self.readings)

    def save(self) -> None:
        if self.path is None:
            return
        ensure_private_dir(self.path.parent, tighten=False)  # mkstemp below creates the file 0600
        doc = {
            "version": STATE_VERSION,
            "readings": [{"device": d, "line": line, "interface": i, **asdict(r)}
                         for (d, line, i), r in sorted(self.readings.items(), key=lambda kv: (*kv[0][:2], kv[0][2] or ""))],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
