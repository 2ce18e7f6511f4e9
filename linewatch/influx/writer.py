"""The batching point writer: retry on outage, drop on rejection, spool to disk what cannot be sent now.

Contract (one :meth:`PointWriter.write` call):

1. The input is encoded into immutable batches (``bytes``) of at most ``batch_size`` lines.
2. **Write-ahead:** every new batch is appended to the disk spool (fsynced) *before* the first attempt to send it,
   so a process killed while InfluxDB is down or slow loses nothing it was given: the next writer on the same
   spool folder sends it. A batch that does not fit in the spool (``max_bytes``) is kept in memory for this call
   only, and so is every later batch of the call (order); if it cannot be sent now it is dropped and counted as
   an overflow.
3. The spool is then replayed oldest first: the backlog of earlier outages, then this call's batches, so points
   reach InfluxDB in the order they were written. Replay stops at the first batch InfluxDB cannot take
   (``InfluxUnavailable``, setup errors); the backlog from before this call also stops once ``max_retry_s`` has
   passed in this call (a large backlog drains over several calls), while this call's own batches are always
   tried once the backlog is gone. A batch is removed from the spool only after InfluxDB accepted (or rejected)
   it; a crash between the two resends it, which InfluxDB absorbs (same series and timestamp overwrite).
4. Each send is retried on ``InfluxUnavailable`` (connection error, timeout, 5xx) with exponential backoff
   (``backoff_initial_s`` doubling up to ``backoff_max_s``), at most ``max_attempts`` times, and all retries of one
   call together sleep at most ``max_retry_s`` — a collector cycle is never blocked for long. A batch that still
   fails stays in the spool, and so does every later batch.
5. ``InfluxRejected`` (4xx: bad line protocol, field type conflict) is logged at ERROR with the server's message
   and the batch is dropped and counted: a retry cannot help. InfluxDB 1.x writes the valid points of a rejected
   batch anyway (partial write), so a dropped batch may be partly stored.
   ``InfluxSetupError`` (401/403 credentials, 404 database not found) is a setup problem, not a bad batch: on 404
   the writer tries ``CREATE DATABASE`` once (if the client's settings allow); then the batch is kept in the spool
   (logged at ERROR) instead of being dropped. 408/429 count as unavailable (retried).
6. A batch is never modified under retry; resending a batch that timed out but was in fact stored is harmless,
   since InfluxDB keys a point by series and timestamp (the second write overwrites with identical values).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

from linewatch.errors import InfluxDatabaseNotFound, InfluxRejected, InfluxSetupError, InfluxUnavailable
from linewatch.influx.client import InfluxClient
from linewatch.influx.lineproto import Point, encode_lines
from linewatch.influx.settings import InfluxSettings
from linewatch.influx.spool import DiskSpool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters since the writer was created; ``spooled_batches``/``spool_bytes`` are what waits on disk now."""

    sent_points: int
    sent_batches: int
    dropped_batches: int
    spooled_batches: int
    spool_bytes: int
    overflowed_batches: int


class _Outcome:
    SENT = "sent"
    DROPPED = "dropped"
    KEEP = "keep"


def _batches_of(lines: list[bytes] | list[str], batch_size: int, encode: bool) -> list[bytes]:
    batches = []
    for start in range(0, len(lines), batch_size):
        chunk = lines[start : start + batch_size]
        body = "\n".join(chunk).encode() if encode else b"\n".join(chunk)  # type: ignore[arg-type]
        batches.append(body + b"\n")
    return batches


def _line_count(batch: bytes) -> int:
    return sum(1 for line in batch.split(b"\n") if line.strip())


class PointWriter:
    """Writes points to InfluxDB in batches, spooling them to disk while InfluxDB is unreachable."""

    def __init__(
        self,
        client: InfluxClient,
        spool: DiskSpool,
        *,
        batch_size: int = 5000,
        max_attempts: int = 5,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_retry_s: float = 60.0,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        if batch_size <= 0 or max_attempts <= 0:
            raise ValueError("batch_size and max_attempts must be > 0")
        self.client = client
        self.spool = spool
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_s = max_retry_s
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._sent_points = 0
        self._sent_batches = 0
        self._dropped_batches = 0

    @classmethod
    def from_settings(cls, settings: InfluxSettings, **overrides: Any) -> PointWriter:
        """Build client, spool and writer from settings (no network I/O; call ``client.ensure_database()``)."""
        kwargs: dict[str, Any] = {
            "batch_size": settings.batch_size,
            "max_attempts": settings.max_attempts,
            "backoff_initial_s": settings.backoff_initial_s,
            "backoff_max_s": settings.backoff_max_s,
            "max_retry_s": settings.max_retry_s,
        }
        kwargs.update(overrides)
        client = InfluxClient(settings)
        spool = DiskSpool(settings.spool.path, settings.spool.max_bytes)
        return cls(client, spool, **kwargs)

    # -- public ------------------------------------------------------------------------------------------------

    def write(self, points: Iterable[Point] | bytes) -> None:
        """Send ``points`` (or a line-protocol body) following the contract in the module docstring.

        Never raises for InfluxDB being down or rejecting data; what could not be sent is spooled or counted.
        """
        batches = self.make_batches(points, self.batch_size)
        if not batches and not self.spool.count:
            return
        with self._lock:
            deadline = self._clock() + self.max_retry_s
            backlog_until = self.spool.newest_id or 0  # batch ids start at 1
            in_memory: list[bytes] = []
            for batch in batches:
                if not in_memory and self.spool.fits(len(batch)):
                    self.spool.append(batch)  # write-ahead: durable before the first send attempt
                else:
                    in_memory.append(batch)
            self._replay(deadline, backlog_until=backlog_until)
            for index, batch in enumerate(in_memory):
                if self.spool.count or self._send(batch, deadline) is _Outcome.KEEP:
                    for rest in in_memory[index:]:
                        self.spool.append(rest)  # refused for lack of room: counted and logged as overflow
                    break

    def replay_spool(self) -> int:
        """Send spooled batches oldest first; return how many were sent.

        Stops when the spool is empty, when InfluxDB fails, or after ``max_retry_s`` (so a big backlog is drained
        over several calls; each :meth:`write` also continues the replay).
        """
        with self._lock:
            return self._replay(self._clock() + self.max_retry_s)

    def stats(self) -> WriterStats:
        """Current counters (see :class:`WriterStats`)."""
        return WriterStats(
            sent_points=self._sent_points,
            sent_batches=self._sent_batches,
            dropped_batches=self._dropped_batches,
            spooled_batches=self.spool.count,
            spool_bytes=self.spool.size_bytes,
            overflowed_batches=self.spool.overflowed_batches,
        )

    def close(self) -> None:
        """Close the client and release the spool (spooled batches stay on disk)."""
        self.client.close()
        self.spool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def make_batches(points: Iterable[Point] | bytes, batch_size: int) -> list[bytes]:
        """Encode into newline-terminated batches of at most ``batch_size`` lines each.

        A ``bytes`` body is split at newlines, so it must not hold newlines inside string field values.
        """
        if isinstance(points, (bytes, bytearray, memoryview)):
            raw = [line for line in bytes(points).split(b"\n") if line.strip()]
            return _batches_of(raw, batch_size, encode=False)
        return _batches_of(encode_lines(points), batch_size, encode=True)

    # -- internals ---------------------------------------------------------------------------------------------

    def _replay(self, deadline: float, *, backlog_until: float = math.inf) -> int:
        """Send spooled batches oldest first. Only batches up to ``backlog_until`` (default: all) are subject
        to the time budget; later ones were appended by the current call and are always tried."""
        sent = 0
        while True:
            oldest = self.spool.peek_oldest()
            if oldest is None:
                break
            batch_id, batch = oldest
            if sent and batch_id <= backlog_until and self._clock() > deadline:
                # A large backlog is drained over several calls so that one call stays short.
                break
            outcome = self._send(batch, deadline)
            if outcome is _Outcome.KEEP:
                log.warning("spool replay paused: %d batches still waiting", self.spool.count)
                break
            self.spool.remove(batch_id)
            if outcome is _Outcome.SENT:
                sent += 1
        if sent:
            log.info("replayed %d spooled batches, %d still waiting", sent, self.spool.count)
        return sent

    def _send(self, batch: bytes, deadline: float) -> str:
        """Send one batch with bounded retries; return SENT, DROPPED (rejected) or KEEP (spool it)."""
        tried_create = False
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client.write(batch)
            except InfluxDatabaseNotFound as exc:
                if not tried_create and self.client.settings.create_database:
                    tried_create = True
                    try:
                        self.client.ensure_database()
                    except InfluxUnavailable:
                        pass
                    attempt -= 1
                    continue
                log.error("%s; keeping the batch in the spool until the database exists", exc)
                return _Outcome.KEEP
            except InfluxSetupError as exc:
                log.error("%s; keeping the batch in the spool until the setup is fixed", exc)
                return _Outcome.KEEP
            except InfluxRejected as exc:
                self._dropped_batches += 1
                log.error(
                    "InfluxDB rejected a batch of %d lines, dropping it (%d dropped so far): %s",
                    _line_count(batch),
                    self._dropped_batches,
                    exc,
                )
                return _Outcome.DROPPED
            except InfluxUnavailable as exc:
                delay = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))
                if attempt >= self.max_attempts or self._clock() + delay > deadline:
                    log.warning("InfluxDB unavailable after %d attempts; the batch waits in the spool: %s",
                                attempt, exc)
                    return _Outcome.KEEP
                log.info("InfluxDB unavailable (attempt %d), retrying in %.1f s: %s", attempt, delay, exc)
                self._sleep(delay)
                continue
            self._sent_batches += 1
            self._sent_points += _line_count(batch)
            return _Outcome.SENT
