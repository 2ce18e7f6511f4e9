"""Small records the CDR parts pass between them: a rejected CDR row, and where a tailed file was read up to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A CDR row that was not loaded (quarantined): ``file:row: reason``. ``raw`` is the row's text, cut to 500
    characters (CDRs hold phone numbers, not secrets)."""

    file: str
    row: int
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.reason}"


@dataclass(frozen=True, slots=True)
class TailOffset:
    """How far a source's current file has been read and loaded: committed in the call store in the same
    transaction as the calls it yielded, so a restart resumes exactly there (each CDR exactly once).

    ``device``/``inode`` identify the file (a rotated-away file keeps them); ``fingerprint`` is the sha1 of the
    file's first up-to-256 bytes (an inode reused by a new file is not taken for the old one); ``offset`` is the
    byte after the last complete line consumed; ``row`` the number of lines consumed (the next row is ``row + 1``).
    """

    source: str
    path: str
    device: int
    inode: int
    fingerprint: str
    offset: int
    row: int
