"""Private state on disk: folders 0700, files 0600, written atomically.

Spool batches, SQLite stores, collector and flow-template state hold data (and sometimes credentials in URLs or
device names) that other local users have no business reading. Every area creates such files through these
helpers instead of ``open``/``mkdir``/``sqlite3.connect`` with the process defaults (0644 files, 0755 folders).

The umask is honoured only in the stricter direction: the mode is ``0700 & ~umask`` (``0600 & ~umask`` for files),
so a umask of 077 changes nothing and a umask of 022 does not loosen anything; a stricter umask (e.g. 0277) removes
bits from the owner as the user asked. An existing folder or file with group/other bits is tightened (logged once).
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_GROUP_OTHER = stat.S_IRWXG | stat.S_IRWXO

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "current_umask",
    "ensure_private_dir",
    "ensure_private_file",
    "open_private",
    "replace_atomically",
    "write_private",
]


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)  # not atomic, hence only as a fallback
    os.umask(mask)
    return mask


def _mode(base: int) -> int:
    return base & ~current_umask()


def _tighten(path: Path, fd: int | None) -> None:
    st = os.fstat(fd) if fd is not None else os.stat(path)
    if st.st_uid != os.geteuid():
        return  # not ours to change (e.g. a folder set up by an administrator); chmod would fail anyway
    current = stat.S_IMODE(st.st_mode)
    wanted = current & ~_GROUP_OTHER
    if current != wanted:
        log.info("%s was readable by others (mode %o); tightened to %o", path, current, wanted)
        if fd is not None:
            os.fchmod(fd, wanted)
        else:
            os.chmod(path, wanted)


def ensure_private_dir(path: Path | str, *, tighten: bool = True) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; with ``tighten``, make an existing ``path``
    owner-only too (for folders linewatch owns alone, like the spool).

    Existing parents are left alone: only the folders this call creates (and ``path`` itself) are made private.
    """
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, _mode(PRIVATE_DIR_MODE))
        except FileExistsError:
            _tighten(folder, None)  # created meanwhile by someone else
    if not missing and tighten:
        _tighten(path, None)
    return path


def open_private(path: Path | str, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """``os.open`` with mode 0600 (``O_CREAT`` implied); an existing file with group/other bits is tightened."""
    path = Path(path)
    fd = os.open(path, flags | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), _mode(PRIVATE_FILE_MODE))
    try:
        _tighten(path, fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def ensure_private_file(path: Path | str) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist (never truncates); tighten it if it does.

    Call it before ``sqlite3.connect(path)``: SQLite gives its journal and WAL files the mode of the database file.
    A missing folder is created 0700; an existing one is not changed (it may be shared with other files).
    """
    path = Path(path)
    ensure_private_dir(path.parent, tighten=False)
    os.close(open_private(path, os.O_RDWR | os.O_CREAT))
    return path


def write_private(path: Path | str, data: bytes | str, *, fsync: bool = True) -> Path:
    """Replace ``path`` atomically with ``data`` (str as UTF-8), mode 0600, in a private folder.

    Written to a temporary file in the same folder, fsynced, renamed over ``path``, folder fsynced: after a
    crash ``path`` holds either the old or the new content, never a mix. A missing folder is created 0700; an
    existing one is not changed.
    """
    path = Path(path)
    ensure_private_dir(path.parent, tighten=False)
    return replace_atomically(path, data, mode=_mode(PRIVATE_FILE_MODE), fsync=fsync)


def replace_atomically(path: Path | str, data: bytes | str, *, mode: int, fsync: bool = True) -> Path:
    """Replace ``path`` with ``data`` (str as UTF-8) in its existing folder, the file given ``mode`` exactly
    before anything is written: a temporary file in the same folder (``mkstemp``: 0600 meanwhile), fsynced,
    renamed over ``path``, folder fsynced. Readers never see half a file, and an older file with a looser mode
    is replaced, not reused. :func:`write_private` and the billing exports (``export_mode``) both write so.
    """
    path = Path(path)
    body = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    if fsync:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return path
