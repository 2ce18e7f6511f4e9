"""The drop folder's complete files (pure but for ``stat``): a file is taken once it stopped changing.

Two looks ``settle_s`` apart: a file whose size or mtime changed in between is still being written and waits for
the next run. A writer that renames into the folder (``.name.part`` → ``name``) is always safe; names starting with
``.`` or ending in a temporary suffix are never taken. Sub-folders (``imported/``, ``rejected/``) are not read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

TEMPORARY_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart", "~")

Look = dict[Path, tuple[int, int]]  # path → (size, mtime_ns)


def candidates(folder: Path) -> Look:
    """The regular files directly in ``folder`` that may be invoices, with their size and mtime."""
    look: Look = {}
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES):
            continue
        try:
            info = path.stat()
        except OSError:
            continue  # moved away meanwhile
        if path.is_file() and not path.is_symlink():
            look[path] = (info.st_size, info.st_mtime_ns)
    return look


def stable(first: Mapping[Path, tuple[int, int]], second: Mapping[Path, tuple[int, int]]) -> list[Path]:
    """The files present in both looks with the same size and mtime, and not empty."""
    return sorted(p for p, seen in second.items() if first.get(p) == seen and seen[0] > 0)


def ready_files(folder: Path, *, settle_s: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> list[Path]:
    """The complete files of ``folder``, in name order."""
    first = candidates(folder)
    if not first:
        return []
    if settle_s > 0:
        sleep(settle_s)
    return stable(first, candidates(folder))
