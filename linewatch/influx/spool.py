"""A durable on-disk FIFO of write batches (line protocol bytes), used while InfluxDB is unreachable.

Layout: one file per batch, ``<sequence:020d>.lp``, sequence numbers strictly increasing. A batch is written to
``.tmp-<sequence>`` first, fsynced, renamed into place and the directory fsynced, so after a crash a batch file is
either complete or absent. Reopening scans the directory, deletes left-over ``.tmp-*`` files and continues after
the highest sequence found.

Overflow policy: when appending a batch would push the spool above ``max_bytes``, the **new** batch is refused
(dropped): the batches already spooled are older, keep their order, and are replayed first. The refusal is
counted in :attr:`DiskSpool.overflowed_batches` and logged at ERROR. Nothing is lost for an outage that fits.

One process at a time owns a spool directory (an exclusive ``flock`` on ``.lock``); :meth:`close` releases it.

The folder is private (0700) and every file in it 0600 (:mod:`linewatch.fileperms`): batches are measurements of
the customer's lines and may carry tag values nobody else on the host should read.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import Self

from linewatch.errors import InfluxError
from linewatch.fileperms import ensure_private_dir, open_private

log = logging.getLogger(__name__)

_SUFFIX = ".lp"
_TMP_PREFIX = ".tmp-"


class SpoolLocked(InfluxError):
    """Another DiskSpool (in this or another process) already owns the spool directory."""


class DiskSpool:
    """Durable FIFO of write batches in ``path``, bounded by ``max_bytes`` of batch payload."""

    def __init__(self, path: Path, max_bytes: int):
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {max_bytes}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.overflowed_batches = 0
        self._lock = threading.Lock()
        ensure_private_dir(self.path)
        self._lock_fd: int | None = open_private(self.path / ".lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise SpoolLocked(f"spool {self.path} is in use by another writer") from exc
        self._sizes: dict[int, int] = {}
        self._size_bytes = 0
        self._scan()
        self._next_seq = max(self._sizes, default=0) + 1

    def _scan(self) -> None:
        found: list[tuple[int, int]] = []
        for entry in os.scandir(self.path):
            if entry.name.startswith(_TMP_PREFIX):
                log.warning("spool %s: removing half-written batch %s left by a crash", self.path, entry.name)
                os.unlink(entry.path)
            elif entry.name.endswith(_SUFFIX) and entry.name[: -len(_SUFFIX)].isdigit():
                found.append((int(entry.name[: -len(_SUFFIX)]), entry.stat().st_size))
        for seq, size in sorted(found):
            self._sizes[seq] = size
            self._size_bytes += size
        if found:
            log.info(
                "spool %s: %d batches (%d bytes) waiting from before", self.path, len(found), self._size_bytes
            )

    def _file(self, seq: int) -> Path:
        return self.path / f"{seq:020d}{_SUFFIX}"

    @property
    def size_bytes(self) -> int:
        """Payload bytes currently spooled."""
        return self._size_bytes

    @property
    def count(self) -> int:
        """Number of batches currently spooled."""
        return len(self._sizes)

    def __len__(self) -> int:
        return len(self._sizes)

    @property
    def newest_id(self) -> int | None:
        """The id of the most recently appended batch still spooled, or ``None`` when empty."""
        with self._lock:
            return next(reversed(self._sizes), None)

    def fits(self, size_bytes: int) -> bool:
        """Whether a batch of ``size_bytes`` can be appended now without exceeding ``max_bytes``."""
        return self._size_bytes + size_bytes <= self.max_bytes

    def append(self, batch: bytes) -> bool:
        """Store ``batch`` durably at the end; ``False`` (counted, logged) when it would exceed ``max_bytes``."""
        if not batch:
            return True
        with self._lock:
            if self._size_bytes + len(batch) > self.max_bytes:
                self.overflowed_batches += 1
                log.error(
                    "spool %s is full (%d of %d bytes, %d batches): DROPPING a batch of %d bytes "
                    "(%d batches dropped so far); InfluxDB has been unreachable too long or max_bytes is too small",
                    self.path,
                    self._size_bytes,
                    self.max_bytes,
                    len(self._sizes),
                    len(batch),
                    self.overflowed_batches,
                )
                return False
            seq = self._next_seq
            self._next_seq += 1
            tmp = self.path / f"{_TMP_PREFIX}{seq:020d}"
            fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                view = memoryview(batch)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, self._file(seq))
            self._fsync_dir()
            self._sizes[seq] = len(batch)
            self._size_bytes += len(batch)
            return True

    def peek_oldest(self) -> tuple[int, bytes] | None:
        """The oldest batch as ``(id, bytes)`` without removing it, or ``None`` when the spool is empty."""
        with self._lock:
            if not self._sizes:
                return None
            seq = next(iter(self._sizes))
            return seq, self._file(seq).read_bytes()

    def remove(self, batch_id: int) -> None:
        """Delete a batch (after it was sent, or dropped as rejected). Unknown ids are ignored."""
        with self._lock:
            size = self._sizes.pop(batch_id, None)
            if size is None:
                return
            self._size_bytes -= size
            try:
                os.unlink(self._file(batch_id))
            except FileNotFoundError:
                pass
            self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Release the directory lock; the spooled batches stay on disk for the next owner."""
        if getattr(self, "_lock_fd", None) is not None:
            os.close(self._lock_fd)  # type: ignore[arg-type]
            self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"DiskSpool({str(self.path)!r}, batches={self.count}, bytes={self.size_bytes}/{self.max_bytes})"
        )
