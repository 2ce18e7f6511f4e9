"""The call store: every call attempt loaded, its quarantined rows and the tail offsets, in one SQLite file.

SQLite in WAL mode (readers — the application, the billing ETL — never block the collector that writes), created
0600 in a private folder (:mod:`linewatch.fileperms`), 30 s busy timeout and ``BEGIN IMMEDIATE`` writes like the
other stores. Tables (docs/voice.md):

* ``calls``: every :data:`~linewatch.voice.frame.ALL_COLUMNS` column, ``call_key`` the primary key (a CDR read
  twice is stored once), indexes ``(line, start_s)`` and ``(start_s)``;
* ``problems``: the quarantined CDR rows (source, file, row, reason, raw, at_s);
* ``offsets``: one :class:`~linewatch.voice.records.TailOffset` per source;
* ``meta``: the longest call stored (bounds the overlap queries).

:meth:`CallStore.add` writes a batch's new calls, its problems and the source's offset in ONE transaction, so a
crash leaves either all of them or none: a restart resumes at the committed offset and loads each CDR exactly once.
Rows go in through ``executemany`` over tuples built column-wise from the frame (a million calls in seconds).
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import pandas as pd

from linewatch.errors import LinewatchError
from linewatch.fileperms import ensure_private_file
from linewatch.voice.frame import ALL_COLUMNS, conform, empty_calls
from linewatch.voice.records import RowProblem, TailOffset

if TYPE_CHECKING:
    from linewatch.settings import Settings
    from linewatch.voice.config import VoiceConfig

STORE_FILE = "calls.sqlite"
"""The file name under ``state_dir`` when voice.yaml gives no ``store_path``."""
BUSY_TIMEOUT_S = 30.0
_KEY_CHUNK = 50_000  # keys looked up per statement when deduplicating
_SQL_TYPES = {"string": "TEXT", "float64": "REAL", "Int64": "INTEGER", "bool": "INTEGER"}
_COLUMNS = list(ALL_COLUMNS)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS calls ("
    + ", ".join(f"{name} {_SQL_TYPES[dtype]}" + (" PRIMARY KEY" if name == "call_key" else "")
                for name, dtype in ALL_COLUMNS.items())
    + ") WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS calls_line_start ON calls (line, start_s);\n"
    "CREATE INDEX IF NOT EXISTS calls_start ON calls (start_s);\n"
    "CREATE TABLE IF NOT EXISTS problems (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, "
    "file TEXT NOT NULL, row INTEGER NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL, at_s REAL NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS problems_source ON problems (source, id);\n"
    "CREATE TABLE IF NOT EXISTS offsets (source TEXT PRIMARY KEY, path TEXT NOT NULL, device INTEGER NOT NULL, "
    "inode INTEGER NOT NULL, fingerprint TEXT NOT NULL, offset INTEGER NOT NULL, row INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value REAL);\n"
)


class CallStoreError(LinewatchError):
    """The call store cannot be opened or read (a read-only open of a store that does not exist yet)."""


def _column_values(series: pd.Series, dtype: str) -> list[Any]:
    """One column as Python values for sqlite3, missing values as None (NaN floats stay NaN: SQLite stores NULL)."""
    if dtype == "float64":
        return series.to_numpy(dtype="float64", na_value=np.nan).tolist()
    if dtype == "bool":
        return series.fillna(False).to_numpy(dtype="int64").tolist()
    return series.astype(object).where(series.notna(), None).tolist()


def _rows(frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    return zip(*(_column_values(frame[name], dtype) for name, dtype in ALL_COLUMNS.items()), strict=True)


def _with_rated_columns(calls: pd.DataFrame) -> pd.DataFrame:
    """``calls`` with every ALL_COLUMNS column: rated columns a batch lacks are added empty (cost 0, not rated)."""
    missing = {name: dtype for name, dtype in ALL_COLUMNS.items() if name not in calls.columns}
    if not missing:
        return calls
    frame = calls.copy()
    defaults = {"float64": 0.0, "bool": False, "string": pd.NA, "Int64": pd.NA}
    for name, dtype in missing.items():
        frame[name] = pd.Series(defaults[dtype], index=frame.index, dtype=dtype)
    return frame


class CallStore:
    """The calls, problems and offsets of one SQLite file; see the module docstring. Not shared across threads
    (open one per thread; the file is shared safely between processes)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            if not self.path.exists():
                raise CallStoreError(f"{self.path}: no call store yet (the voice collector creates it)")
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                         timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            return
        ensure_private_file(self.path)
        self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S,
                                     check_same_thread=False)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise CallStoreError(f"{self.path}: not a call store ({exc})") from None

    # -- writing -------------------------------------------------------------------------------------------------

    def add(self, calls: pd.DataFrame, *, problems: Sequence[RowProblem] = (), offset: TailOffset | None = None,
            source: str = "") -> pd.DataFrame:
        """In ONE transaction: insert the rows of ``calls`` whose ``call_key`` is not stored yet (the first of
        repeated keys within the batch), record ``problems`` under ``source`` (default: the offset's source) and
        commit ``offset``. Returns the rows inserted (ALL_COLUMNS; rated columns the batch lacks are empty)."""
        frame = _with_rated_columns(calls)
        frame = frame.drop_duplicates("call_key", keep="first") if len(frame) else frame
        source = source or (offset.source if offset is not None else "")
        now_s = time.time()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if len(frame):
                known = self._known(frame["call_key"])
                if known:
                    frame = frame[~frame["call_key"].isin(known)]
            if len(frame):
                marks = ", ".join("?" * len(_COLUMNS))
                conn.executemany(f"INSERT INTO calls ({', '.join(_COLUMNS)}) VALUES ({marks})", _rows(frame))
                longest = float(np.nanmax((frame["end_s"] - frame["start_s"]).to_numpy(dtype="float64",
                                                                                       na_value=np.nan),
                                          initial=0.0))
                conn.execute("INSERT INTO meta VALUES ('max_duration_s', ?) ON CONFLICT (key) DO UPDATE SET "
                             "value = max(value, excluded.value)", (longest,))
            if problems:
                conn.executemany("INSERT INTO problems (source, file, row, reason, raw, at_s) VALUES (?, ?, ?, ?, ?, ?)",
                                 [(source, p.file, p.row, p.reason, p.raw[:500], now_s) for p in problems])
            if offset is not None:
                conn.execute("INSERT OR REPLACE INTO offsets VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (offset.source, offset.path, offset.device, offset.inode, offset.fingerprint,
                              offset.offset, offset.row))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return conform(frame, ALL_COLUMNS).reset_index(drop=True)

    def _known(self, keys: pd.Series) -> set[str]:
        values = keys.astype(object).tolist()
        known: set[str] = set()
        for i in range(0, len(values), _KEY_CHUNK):
            chunk = values[i:i + _KEY_CHUNK]
            rows = self._conn.execute("SELECT call_key FROM calls WHERE call_key IN (SELECT value FROM json_each(?))",
                                      (_json_list(chunk),)).fetchall()
            known.update(r[0] for r in rows)
        return known

    def known_keys(self, keys: pd.Series | Sequence[str]) -> set[str]:
        """The keys of ``keys`` already stored (the pipeline rates only new calls, so bundles are not used twice)."""
        return self._known(pd.Series(list(keys), dtype="string"))

    # -- reading -------------------------------------------------------------------------------------------------

    def offset(self, source: str) -> TailOffset | None:
        """The committed offset of ``source``, or None before its first batch."""
        row = self._conn.execute("SELECT source, path, device, inode, fingerprint, offset, row FROM offsets "
                                 "WHERE source = ?", (source,)).fetchone()
        return None if row is None else TailOffset(*row)

    def offsets(self) -> list[TailOffset]:
        rows = self._conn.execute("SELECT source, path, device, inode, fingerprint, offset, row FROM offsets "
                                  "ORDER BY source").fetchall()
        return [TailOffset(*row) for row in rows]

    def max_duration_s(self) -> float:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'max_duration_s'").fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    def calls(self, *, lines: Sequence[str] | None = None, start_s: float, end_s: float, overlapping: bool = False,
              columns: Sequence[str] | None = None, limit: int | None = None,
              newest_first: bool = False) -> pd.DataFrame:
        """Calls started in ``[start_s, end_s)``, or with ``overlapping`` every call whose ``[start_s, end_s]``
        overlaps that window (calls in progress at its start included), of ``lines`` (default: every line, also
        unmapped calls), in start order (``newest_first``: reversed), at most ``limit``. ``columns``: a subset of
        ALL_COLUMNS (default all), with their dtypes."""
        cols = list(columns) if columns is not None else _COLUMNS
        unknown = [c for c in cols if c not in ALL_COLUMNS]
        if unknown:
            raise ValueError(f"unknown call column(s) {', '.join(unknown)}")
        where, params = self._window(start_s, end_s, overlapping)
        if lines is not None:
            where.append("line IN (SELECT value FROM json_each(?))")
            params.append(_json_list(list(lines)))
        sql = (f"SELECT {', '.join(cols)} FROM calls WHERE {' AND '.join(where)} "
               f"ORDER BY start_s {'DESC' if newest_first else 'ASC'}, call_key")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._conn.execute(sql, params).fetchall()
        return _frame(rows, {c: ALL_COLUMNS[c] for c in cols})

    def _window(self, start_s: float, end_s: float, overlapping: bool) -> tuple[list[str], list[Any]]:
        if not overlapping:
            return ["start_s >= ?", "start_s < ?"], [float(start_s), float(end_s)]
        # A call overlapping the window started at most the longest stored call's duration before it.
        reach_s = self.max_duration_s()
        return (["start_s >= ?", "start_s < ?", "end_s >= ?"],
                [float(start_s) - reach_s - 1.0, float(end_s), float(start_s)])

    def count(self, *, start_s: float = -math.inf, end_s: float = math.inf) -> int:
        """How many calls started in ``[start_s, end_s)``."""
        row = self._conn.execute("SELECT count(*) FROM calls WHERE start_s >= ? AND start_s < ?",
                                 (_bound(start_s), _bound(end_s))).fetchone()
        return int(row[0])

    def bundle_used_s(self, line: str, start_s: float, end_s: float) -> float:
        """Seconds of included-minute bundles taken by ``line``'s calls started in ``[start_s, end_s)``."""
        row = self._conn.execute("SELECT total(bundle_s) FROM calls WHERE line = ? AND start_s >= ? AND start_s < ?",
                                 (line, float(start_s), float(end_s))).fetchone()
        return float(row[0])

    def problems(self, *, source: str | None = None, limit: int = 1000) -> list[RowProblem]:
        """The most recent quarantined rows (of ``source``), newest first."""
        sql = "SELECT file, row, reason, raw FROM problems"
        params: list[Any] = []
        if source is not None:
            sql += " WHERE source = ?"
            params.append(source)
        rows = self._conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, int(limit)]).fetchall()
        return [RowProblem(file, int(row), reason, raw) for file, row, reason, raw in rows]

    def problem_count(self, *, source: str | None = None) -> int:
        if source is None:
            return int(self._conn.execute("SELECT count(*) FROM problems").fetchone()[0])
        return int(self._conn.execute("SELECT count(*) FROM problems WHERE source = ?", (source,)).fetchone()[0])

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _bound(value: float) -> float:
    return max(min(value, 1e300), -1e300)


def _json_list(values: list[Any]) -> str:
    return json.dumps(values)


def _frame(rows: list[tuple[Any, ...]], columns: dict[str, str]) -> pd.DataFrame:
    if not rows:
        return empty_calls(columns)
    frame = pd.DataFrame.from_records(rows, columns=list(columns), coerce_float=True)
    for name, dtype in columns.items():
        if dtype == "bool":
            frame[name] = frame[name].fillna(0).astype(bool)
        elif dtype == "float64":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return conform(frame, columns)


def store_path(settings: Settings, config: VoiceConfig) -> Path:
    """The call store's file: voice.yaml ``store_path`` (relative to voice.yaml), else ``state_dir/calls.sqlite``."""
    from linewatch.voice.config import voice_path

    if config.store_path is not None:
        path = config.store_path
        return path if path.is_absolute() else voice_path(settings).parent / path
    return settings.resolve(settings.state_dir) / STORE_FILE


def open_store(settings: Settings, config: VoiceConfig | None = None, *, read_only: bool = False) -> CallStore:
    """The configured call store (voice.yaml loaded when ``config`` is not given)."""
    if config is None:
        from linewatch.voice.config import load_voice_config

        config = load_voice_config(settings)
    return CallStore(store_path(settings, config), read_only=read_only)
