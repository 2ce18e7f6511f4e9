"""The durable alert store: alert states, notification groups, the outbox, silences and pending InfluxDB events.

One SQLite file in WAL mode with ``synchronous=FULL``: a committed evaluation or delivery survives a crash or a
kill. Every step commits its whole effect in one transaction (an evaluation's state changes together with their
InfluxDB events; a flush's group states together with the messages it enqueued; a delivery's "delivered" mark),
so a restarted evaluator neither resends what was delivered nor forgets what was pending.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from alerting.logic import AlertStatus
from alerting.routing import GroupState
from linewatch.choices import AlertState, DeliveryStatus, Severity
from linewatch.errors import AlertStoreError
from linewatch.fileperms import ensure_private_file, open_private

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  rule TEXT NOT NULL,
  subject TEXT NOT NULL,
  state TEXT NOT NULL,
  severity TEXT NOT NULL,
  since_s INTEGER NOT NULL,
  value REAL,
  changed_s INTEGER NOT NULL,
  labels TEXT NOT NULL,
  info TEXT NOT NULL,
  acked_s INTEGER,
  acked_by TEXT,
  ack_comment TEXT
);
CREATE TABLE IF NOT EXISTS groups (
  receiver TEXT NOT NULL,
  group_key TEXT NOT NULL,
  first_seen_s REAL,
  last_sent_s REAL,
  notified TEXT NOT NULL,
  PRIMARY KEY (receiver, group_key)
);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  receiver TEXT NOT NULL,
  group_key TEXT NOT NULL,
  created_s REAL NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_s REAL NOT NULL,
  expires_s REAL NOT NULL,
  delivered_s REAL,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_s);
CREATE TABLE IF NOT EXISTS silences (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  matchers TEXT NOT NULL,
  starts_s REAL NOT NULL,
  ends_s REAL NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS influx_events (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL);
"""


def _take_lock(path: Path) -> Any:
    handle = open(path, "a+", opener=open_private)  # noqa: SIM115 (kept open: the lock lives as long as the store)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "?"
        handle.close()
        raise AlertStoreError(f"{path.with_suffix('')}: another alert evaluator (pid {owner}) uses this state file; "
                              "run one evaluator per state file") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """One alert (rule × line or device) that is pending, firing, or resolved and not yet forgotten."""

    key: str
    rule: str
    subject: str
    status: AlertStatus
    labels: Mapping[str, str]
    info: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    acked_s: int | None = None
    acked_by: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    receiver: str
    group_key: str
    created_s: float
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_s: float
    expires_s: float
    delivered_s: float | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    matchers: tuple[str, ...]
    starts_s: float
    ends_s: float
    reason: str
    created_by: str
    created_s: float

    def active_at(self, t_s: float) -> bool:
        return self.starts_s <= t_s < self.ends_s


class AlertStore:
    """Thread-safe access to the alert state file (one connection, one lock; other processes wait on SQLite).

    ``exclusive=True`` (the evaluator) also takes an advisory lock on ``<file>.lock`` for the store's lifetime, so a
    second evaluator on the same state cannot queue or send the same notifications; the CLI's silence/ack/list open
    the store without it. The OS releases the lock when the process dies, even by SIGKILL.
    """

    def __init__(self, path: Path | str, *, exclusive: bool = False):
        self.path = Path(path)
        self._lock_file: Any = None
        try:
            ensure_private_file(self.path)  # 0600 in a 0700 folder; SQLite's WAL/SHM files copy its mode
            if exclusive:
                self._lock_file = _take_lock(self.path.with_name(self.path.name + ".lock"))
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=30000")
            with self._tx() as db:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(row[0]) != SCHEMA_VERSION:
                    raise AlertStoreError(f"{self.path}: schema version {row[0]}, this linewatch reads {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            if self._lock_file is not None:
                self._lock_file.close()
            raise AlertStoreError(f"{self.path}: cannot open the alert store: {exc}") from exc
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise AlertStoreError(f"{self.path}: {exc}") from exc
        finally:
            if lock is not None:
                lock.release()

    # -- alerts ------------------------------------------------------------------------------------------------

    @staticmethod
    def _alert(row: sqlite3.Row | tuple[Any, ...]) -> StoredAlert:
        (id_, key, rule, subject, state, severity, since_s, value, changed_s, labels, info, acked_s, acked_by) = row
        status = AlertStatus(AlertState(state), Severity(severity), since_s, value, changed_s)
        return StoredAlert(key, rule, subject, status, json.loads(labels), json.loads(info), id_, acked_s, acked_by)

    _ALERT_COLUMNS = ("id, key, rule, subject, state, severity, since_s, value, changed_s, labels, info, acked_s, "
                      "acked_by")

    def alerts(self) -> dict[str, StoredAlert]:
        """Every stored alert by key."""
        with self._tx() as db:
            rows = db.execute(f"SELECT {self._ALERT_COLUMNS} FROM alerts ORDER BY id").fetchall()
        return {a.key: a for a in map(self._alert, rows)}

    def alert_by_id(self, alert_id: int) -> StoredAlert | None:
        with self._tx() as db:
            row = db.execute(f"SELECT {self._ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else self._alert(row)

    def apply_evaluation(self, *, changed: Iterable[StoredAlert], values: Iterable[tuple[str, float | None]],
                         events: Iterable[str]) -> None:
        """Commit one evaluation: state changes (clearing acks; inactive alerts are deleted), value updates, and
        the InfluxDB event lines that describe the changes — all or nothing."""
        with self._tx() as db:
            for a in changed:
                s = a.status
                if s.state is AlertState.INACTIVE:
                    db.execute("DELETE FROM alerts WHERE key = ?", (a.key,))
                    continue
                db.execute(
                    "INSERT INTO alerts (key, rule, subject, state, severity, since_s, value, changed_s, labels, info)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
                    " severity = excluded.severity, since_s = excluded.since_s, value = excluded.value,"
                    " changed_s = excluded.changed_s, labels = excluded.labels, info = excluded.info,"
                    " acked_s = NULL, acked_by = NULL, ack_comment = NULL",
                    (a.key, a.rule, a.subject, s.state.value, s.severity.value, s.since_s, s.value, s.changed_s,
                     json.dumps(dict(a.labels), sort_keys=True), json.dumps(dict(a.info), sort_keys=True)),
                )
            db.executemany("UPDATE alerts SET value = ? WHERE key = ?", [(v, k) for k, v in values])
            db.executemany("INSERT INTO influx_events (line) VALUES (?)", [(line,) for line in events])

    def forget_resolved(self, *, before_s: float, keep: Iterable[str]) -> int:
        """Delete resolved alerts older than ``before_s`` that no group still has to report."""
        keep = set(keep)
        with self._tx() as db:
            rows = db.execute("SELECT key FROM alerts WHERE state = ? AND changed_s < ?",
                              (AlertState.RESOLVED.value, before_s)).fetchall()
            gone = [(k,) for (k,) in rows if k not in keep]
            db.executemany("DELETE FROM alerts WHERE key = ?", gone)
        return len(gone)

    def acknowledge(self, alert_id: int, *, by: str, comment: str, now_s: float) -> StoredAlert:
        """Stop repeats of a firing alert until it changes state (cleared by the next state change)."""
        with self._tx() as db:
            row = db.execute("SELECT state FROM alerts WHERE id = ?", (alert_id,)).fetchone()
            if row is None:
                raise AlertStoreError(f"no alert with id {alert_id} (see `linewatch alerts list`)")
            if row[0] != AlertState.FIRING.value:
                raise AlertStoreError(f"alert {alert_id} is {row[0]}, only firing alerts can be acknowledged")
            db.execute("UPDATE alerts SET acked_s = ?, acked_by = ?, ack_comment = ? WHERE id = ?",
                       (int(now_s), by, comment, alert_id))
        alert = self.alert_by_id(alert_id)
        assert alert is not None
        return alert

    # -- groups and outbox ---------------------------------------------------------------------------------------

    def groups(self) -> dict[tuple[str, str], GroupState]:
        with self._tx() as db:
            rows = db.execute("SELECT receiver, group_key, first_seen_s, last_sent_s, notified FROM groups").fetchall()
        return {(r, g): GroupState(first, last, json.loads(notified)) for r, g, first, last, notified in rows}

    def apply_flush(self, *, states: Mapping[tuple[str, str], GroupState],
                    messages: Iterable[tuple[str, str, dict[str, Any]]], now_s: float, expire_s: float) -> list[int]:
        """Commit group states and enqueue their messages together; return the new outbox ids."""
        ids = []
        with self._tx() as db:
            for (receiver, group_key), st in states.items():
                if st.first_seen_s is None and st.last_sent_s is None and not st.notified:
                    db.execute("DELETE FROM groups WHERE receiver = ? AND group_key = ?", (receiver, group_key))
                    continue
                db.execute(
                    "INSERT INTO groups VALUES (?, ?, ?, ?, ?) ON CONFLICT (receiver, group_key) DO UPDATE SET"
                    " first_seen_s = excluded.first_seen_s, last_sent_s = excluded.last_sent_s,"
                    " notified = excluded.notified",
                    (receiver, group_key, st.first_seen_s, st.last_sent_s,
                     json.dumps(dict(st.notified or {}), sort_keys=True)),
                )
            for receiver, group_key, payload in messages:
                cur = db.execute(
                    "INSERT INTO outbox (receiver, group_key, created_s, payload, status, next_attempt_s, expires_s)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (receiver, group_key, now_s, json.dumps(payload, sort_keys=True), DeliveryStatus.PENDING.value,
                     now_s, now_s + expire_s),
                )
                ids.append(int(cur.lastrowid or 0))
        return ids

    _OUTBOX_COLUMNS = ("id, receiver, group_key, created_s, payload, status, attempts, next_attempt_s, expires_s, "
                       "delivered_s, last_error")

    @staticmethod
    def _message(row: tuple[Any, ...]) -> OutboxMessage:
        id_, receiver, group_key, created, payload, status, attempts, next_s, expires, delivered, error = row
        return OutboxMessage(id_, receiver, group_key, created, json.loads(payload), DeliveryStatus(status),
                             attempts, next_s, expires, delivered, error)

    def due_messages(self, *, now_s: float, limit: int) -> list[OutboxMessage]:
        with self._tx() as db:
            rows = db.execute(f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE status = ? AND next_attempt_s <= ?"
                              " ORDER BY id LIMIT ?", (DeliveryStatus.PENDING.value, now_s, limit)).fetchall()
        return [self._message(r) for r in rows]

    def messages(self, *, status: DeliveryStatus | None = None) -> list[OutboxMessage]:
        query = f"SELECT {self._OUTBOX_COLUMNS} FROM outbox"
        args: tuple[Any, ...] = ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status.value,)
        with self._tx() as db:
            rows = db.execute(query + " ORDER BY id", args).fetchall()
        return [self._message(r) for r in rows]

    def mark_delivered(self, message_id: int, *, now_s: float) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET status = ?, delivered_s = ?, attempts = attempts + 1, last_error = NULL"
                       " WHERE id = ?", (DeliveryStatus.DELIVERED.value, now_s, message_id))

    def mark_failed(self, message_id: int, *, error: str, next_attempt_s: float) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_s = ? WHERE id = ?",
                       (error, next_attempt_s, message_id))

    def postpone_group(self, receiver: str, group_key: str, *, until_s: float) -> None:
        """Hold every pending message of a group until ``until_s`` (its oldest is backing off: order is kept)."""
        with self._tx() as db:
            db.execute("UPDATE outbox SET next_attempt_s = ? WHERE receiver = ? AND group_key = ? AND status = ?"
                       " AND next_attempt_s < ?", (until_s, receiver, group_key, DeliveryStatus.PENDING.value, until_s))

    def mark_expired(self, message_id: int, *, error: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET status = ?, last_error = ? WHERE id = ?",
                       (DeliveryStatus.EXPIRED.value, error, message_id))

    def prune_outbox(self, *, before_s: float) -> int:
        """Delete delivered/expired messages created before ``before_s``."""
        with self._tx() as db:
            cur = db.execute("DELETE FROM outbox WHERE status != ? AND created_s < ?",
                             (DeliveryStatus.PENDING.value, before_s))
        return cur.rowcount

    # -- silences ------------------------------------------------------------------------------------------------

    def add_silence(self, *, matchers: Iterable[str], starts_s: float, ends_s: float, reason: str, created_by: str,
                    now_s: float) -> Silence:
        matchers = tuple(matchers)
        with self._tx() as db:
            cur = db.execute("INSERT INTO silences (matchers, starts_s, ends_s, reason, created_by, created_s)"
                             " VALUES (?, ?, ?, ?, ?, ?)",
                             (json.dumps(list(matchers)), starts_s, ends_s, reason, created_by, now_s))
        return Silence(int(cur.lastrowid or 0), matchers, starts_s, ends_s, reason, created_by, now_s)

    def silences(self, *, active_at: float | None = None) -> list[Silence]:
        """All silences, or (``active_at``) those in force at that time."""
        with self._tx() as db:
            rows = db.execute("SELECT id, matchers, starts_s, ends_s, reason, created_by, created_s FROM silences"
                              " ORDER BY id").fetchall()
        out = [Silence(i, tuple(json.loads(m)), s, e, r, b, c) for i, m, s, e, r, b, c in rows]
        return out if active_at is None else [s for s in out if s.active_at(active_at)]

    def expire_silence(self, silence_id: int, *, now_s: float) -> None:
        with self._tx() as db:
            cur = db.execute("UPDATE silences SET ends_s = MIN(ends_s, ?) WHERE id = ?", (now_s, silence_id))
            if cur.rowcount == 0:
                raise AlertStoreError(f"no silence with id {silence_id}")

    # -- InfluxDB events -----------------------------------------------------------------------------------------

    def pending_events(self, *, limit: int = 5000) -> list[tuple[int, str]]:
        with self._tx() as db:
            return db.execute("SELECT id, line FROM influx_events ORDER BY id LIMIT ?", (limit,)).fetchall()

    def delete_events(self, up_to_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM influx_events WHERE id <= ?", (up_to_id,))
