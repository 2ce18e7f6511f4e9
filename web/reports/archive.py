"""The sent-report archive on disk: the HTML and PDF files of each delivery under ``reports.output_dir``
(``state_dir/reports`` when absent), in the private folder ``sent/`` (mode 0700, files 0600: reports hold costs
and figures of departments).

Names are ``sent/<schedule id>/<period>/<report>-<period>-<language>.<format>``: a re-run of a failed delivery
writes the same names again, and each file is written to ``NAME.part`` first and renamed when complete, so a
reader never sees half a file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO

from django.conf import settings

from linewatch.fileperms import ensure_private_dir, open_private

SENT = "sent"
_NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def root() -> Path:
    """``reports.output_dir`` (relative to the config file's folder), else ``state_dir/reports``."""
    from web.reports.engine import output_dir

    return output_dir(settings.LINEWATCH)


def delivery_name(*, schedule_id: int, report: str, period: str, language: str, fmt: str) -> str:
    """The archive name (relative to :func:`root`) of one delivery's file."""
    parts = (str(schedule_id), period, f"{report}-{period}-{language}.{fmt}")
    for part in parts:
        if not _NAME_PART.match(part):
            raise ValueError(f"archive: {part!r} cannot be part of a file name (letters, digits, . _ - only)")
    return "/".join((SENT, *parts))


def path(name: str) -> Path:
    """The file of archive name ``name``; ValueError for a name outside the archive (``..``, absolute)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != SENT or not all(_NAME_PART.match(p) for p in parts[1:]):
        raise ValueError(f"archive: {name!r} is not an archive name")
    return root().joinpath(*parts)


def save(name: str, data: bytes) -> Path:
    """Write ``data`` as archive file ``name`` (private, atomically replacing an earlier one)."""
    final = path(name)
    ensure_private_dir(root() / SENT)
    ensure_private_dir(final.parent)
    partial = final.with_name(final.name + ".part")
    with os.fdopen(open_private(partial), "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, final)
    return final


def open_file(name: str) -> IO[bytes]:
    """The archive file ``name`` for reading; FileNotFoundError when it is gone."""
    return path(name).open("rb")
