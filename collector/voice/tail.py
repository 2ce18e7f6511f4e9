"""Tailing a CDR file, rotation-safe, resuming exactly where the call store's committed offset says (docs/cdr.md).

Each call of :meth:`TailReader.chunks` reads what was appended since the last one, in chunks of complete lines
(a partial last line waits for its newline), each with the file row number of its first line and the
:class:`~linewatch.voice.records.TailOffset` *after* it. The caller commits that offset in the call store together
with the chunk's calls (``CallStore.add(offset=…)``), so a new reader started from the committed offset after a
crash or a restart yields every CDR exactly once.

Which file the offset belongs to is decided by device + inode and a fingerprint (sha1 of the first
``min(256, offset)`` bytes — bytes already read never change in an append-only file):

- same inode, fingerprint matches, size ≥ offset: continue at the offset;
- same inode but smaller than the offset, or the fingerprint differs: truncated in place (``copytruncate``), or
  rewritten: read it again from the start (a re-read CDR has the same call key: the store drops it);
- another inode at the path: the file was rotated (renamed). The old file is looked up by device + inode among
  the path's siblings ``<name>.*`` and ``<name>-*`` (``Master.csv.1``, ``Master.csv-20261201``) and finished from
  the offset (its last line even without a newline: nobody writes to it any more), then the new file is read from
  the start. A rotated file that is gone (compressed, deleted) cannot be finished: that is logged.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from linewatch.voice.formats.config import CdrSource
from linewatch.voice.records import TailOffset

log = logging.getLogger(__name__)
FINGERPRINT_BYTES = 256


def fingerprint(path: Path, length: int) -> str:
    """sha1 of the first ``min(256, length)`` bytes of ``path``."""
    with path.open("rb") as fh:
        return hashlib.sha1(fh.read(min(FINGERPRINT_BYTES, length))).hexdigest()


@dataclass
class _Position:
    path: Path
    device: int
    inode: int
    offset: int
    row: int


class TailReader:
    """Reads what a source's CDR file gained since ``start`` (None: the file from its beginning)."""

    def __init__(self, source: CdrSource, path: Path, *, start: TailOffset | None, max_bytes: int = 8 << 20):
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.source = source
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._start = start
        self.warnings: list[str] = []

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("%s", message)

    def _siblings(self) -> list[Path]:
        folder = self.path.parent
        if not folder.is_dir():
            return []
        name = self.path.name
        return sorted(p for p in folder.iterdir()
                      if p.name.startswith((name + ".", name + "-")) and p.is_file())

    def _resume(self, current: os.stat_result | None) -> tuple[_Position | None, _Position | None]:
        """(a rotated file to finish first, the current file's position)."""
        start = self._start
        fresh = None if current is None else _Position(self.path, current.st_dev, current.st_ino, 0, 0)
        if start is None:
            return None, fresh
        same = current is not None and (current.st_dev, current.st_ino) == (start.device, start.inode)
        if same:
            assert current is not None and fresh is not None
            if current.st_size < start.offset:
                self._warn(f"{self.path}: truncated ({current.st_size} bytes < offset {start.offset}): read again "
                           f"from the start")
                return None, fresh
            if fingerprint(self.path, start.offset) != start.fingerprint:
                self._warn(f"{self.path}: rewritten (its first bytes changed): read again from the start")
                return None, fresh
            return None, _Position(self.path, start.device, start.inode, start.offset, start.row)
        for sibling in self._siblings():
            st = sibling.stat()
            if (st.st_dev, st.st_ino) == (start.device, start.inode):
                if st.st_size >= start.offset and fingerprint(sibling, start.offset) == start.fingerprint:
                    return _Position(sibling, st.st_dev, st.st_ino, start.offset, start.row), fresh
                break
        if current is not None and current.st_size >= start.offset and start.offset and \
                fingerprint(self.path, start.offset) == start.fingerprint:
            # the same content under a new inode (copied back, restored): go on from the offset
            return None, _Position(self.path, current.st_dev, current.st_ino, start.offset, start.row)
        self._warn(f"{self.path}: the file read up to offset {start.offset} (inode {start.inode}) was rotated "
                   f"away and is not among its siblings any more: its unread end is lost; reading the new file")
        return None, fresh

    def chunks(self) -> Iterator[tuple[bytes, int, TailOffset]]:
        """``(data, first_row, offset_after)`` for every chunk of complete lines appended since the start; the
        reader then continues from where it stopped on the next call."""
        try:
            current = self.path.stat()
        except FileNotFoundError:
            current = None
        rotated, position = self._resume(current)
        if rotated is not None:
            yield from self._read(rotated, final=True)
        if position is not None:
            yield from self._read(position, final=False)

    def _read(self, pos: _Position, *, final: bool) -> Iterator[tuple[bytes, int, TailOffset]]:
        try:
            fh = pos.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            fh.seek(pos.offset)
            pending = b""
            while True:
                block = fh.read(self.max_bytes)
                data = pending + block
                if not block:
                    if final and data:  # a rotated file's last line without a newline: it is complete
                        yield self._chunk(pos, data + b"\n", consumed=len(data))
                    return
                cut = data.rfind(b"\n")
                if cut < 0:
                    pending = data  # one line longer than max_bytes: read on
                    continue
                pending = data[cut + 1:]
                yield self._chunk(pos, data[:cut + 1], consumed=cut + 1)

    def _chunk(self, pos: _Position, data: bytes, *, consumed: int) -> tuple[bytes, int, TailOffset]:
        first_row = pos.row + 1
        pos.offset += consumed
        pos.row += data.count(b"\n")
        offset = TailOffset(self.source.name, str(self.path), pos.device, pos.inode,
                            fingerprint(pos.path, pos.offset), pos.offset, pos.row)
        self._start = offset
        return data, first_row, offset
