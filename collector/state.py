"""Persisted counter state: the last reading of every line, so a collector restart does not lose a sample interval."""

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
STATE_VERSION = 1


class CounterState:
    """Last reading per (device, line). Saved atomically after each cycle; a damaged file is reported and ignored."""

    def __init__(self, path: Path | None):
        self.path = path
        self.readings: dict[tuple[str, str], Reading] = {}

    def get(self, device: str, line_id: str) -> Reading | None:
        return self.readings.get((device, line_id))

    def put(self, device: str, line_id: str, reading: Reading) -> None:
        self.readings[(device, line_id)] = reading

    def load(self) -> int:
        """Read the state file; returns how many readings were restored."""
        if self.path is None or not self.path.exists():
            return 0
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported state version {doc.get('version')!r}")
            self.readings = {
                (r["device"], r["line"]): Reading(**{k: v for k, v in r.items() if k not in ("device", "line")})
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
            "readings": [{"device": d, "line": line, **asdict(r)} for (d, line), r in sorted(self.readings.items())],
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
