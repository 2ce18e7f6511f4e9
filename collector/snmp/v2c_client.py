"""SNMPv2c client on asyncio UDP and the hand-written BER codec (:mod:`collector.snmp.ber`).

One connected UDP socket per client; requests are matched to responses by request-id, so several requests may be in
flight on one client at once. Each request is sent up to ``retries + 1`` times (same request-id, so a late answer to
an earlier send still counts), waiting ``timeout_s`` after each send.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable, Sequence

from collector.snmp import ber
from collector.snmp.protocol import (
    MAX_VARBINDS_PER_GET,
    Clock,
    Response,
    TimedTable,
    Value,
    get_rows_by_get,
    row_chunks,
    scalar_parent,
    timed_table,
)
from linewatch.errors import BerError, SnmpError, SnmpTimeout


class TableWalk:
    """Pure state of a parallel GETBULK walk over columns of a table indexed by one integer.

    ``active`` lists the columns still walking, in the order the next request must name them; :meth:`feed` takes
    one response's varbinds (row-major, one per active column per repetition; a short last row is fine).

    With ``scalars`` (instances such as sysUpTime.0), every request starts with them as non-repeaters
    (:meth:`request_oids`), and :meth:`feed` given the response's arrival time records a :class:`Response` and
    which response carried each cell (``responses``, ``response_of``).
    """

    def __init__(self, columns: Sequence[str], *, scalars: Sequence[str] = ()):
        cols = [c.strip(".") for c in columns]
        if len(set(cols)) != len(cols):
            raise ValueError(f"duplicate columns in walk: {cols}")
        self.result: dict[str, dict[int, Value]] = {c: {} for c in cols}
        self.active: list[str] = cols
        self.scalars = [s.strip(".") for s in scalars]
        self.responses: list[Response] = []
        self.response_of: dict[str, dict[int, int]] = {c: {} for c in cols}
        self._prefix = {c: c + "." for c in cols}
        self._cursor: dict[str, str] = {c: c for c in cols}
        self._last_index: dict[str, int] = {c: -1 for c in cols}

    def next_oids(self) -> list[str]:
        return [self._cursor[c] for c in self.active]

    def request_oids(self) -> list[str]:
        """Non-repeaters (``len(scalars)`` of them) then the repeaters of the next GETBULK."""
        return [scalar_parent(s) for s in self.scalars] + self.next_oids()

    def timed_table(self) -> TimedTable:
        return TimedTable(values=self.result, responses=self.responses, response_of=self.response_of)

    def feed(self, varbinds: Sequence[tuple[str, int, Value]], time_s: float | None = None) -> None:
        """Consume one response (non-repeaters first when the walk has scalars). Raises ``ValueError`` when the
        agent misbehaves (empty answer, index not an integer, OIDs not increasing) so the walk can never loop
        forever. ``time_s``: when the response arrived, to record which response carried each cell."""
        nr = len(self.scalars)
        if nr:
            if len(varbinds) < nr:
                raise ValueError(f"agent returned {len(varbinds)} varbinds for {nr} non-repeaters")
            self.responses.append(Response(
                time_s if time_s is not None else 0.0,
                {s: (value if oid == s else None) for s, (oid, _, value) in zip(self.scalars, varbinds)}))
            varbinds = varbinds[nr:]
        elif time_s is not None:
            self.responses.append(Response(time_s, {}))
        active = self.active
        n = len(active)
        if not varbinds:
            raise ValueError(f"agent returned no varbinds for GETBULK of {active[0]} ...")
        done: set[str] = set()
        result = self.result
        prefix = self._prefix
        last_index = self._last_index
        end_tag = ber.TAG_END_OF_MIB_VIEW
        carried = self.response_of if self.responses else None
        k = len(self.responses) - 1
        for i, (oid, tag, value) in enumerate(varbinds):
            col = active[i % n]
            if col in done:
                continue
            p = prefix[col]
            if tag == end_tag or not oid.startswith(p):
                done.add(col)
                continue
            rest = oid[len(p) :]
            if not rest.isdigit():
                raise ValueError(f"{oid} is not indexed by one integer under column {col}")
            index = int(rest)
            if index <= last_index[col]:
                raise ValueError(f"agent returned {oid} after index {last_index[col]}: OIDs not increasing")
            last_index[col] = index
            result[col][index] = value
            if carried is not None:
                carried[col][index] = k
            self._cursor[col] = oid
        if done:
            self.active = [c for c in active if c not in done]


class TableWalking:
    """``walk_table``/``walk_table_timed`` for a client whose ``_walk(walk, max_repetitions, clock)`` runs the
    GETBULK loop of a :class:`TableWalk` (each client sends its PDUs its own way)."""

    async def _walk(self, walk: TableWalk, max_repetitions: int, clock: Clock | None) -> None:
        raise NotImplementedError

    async def walk_table(
        self, columns: Sequence[str], *, max_repetitions: int = 50
    ) -> dict[str, dict[int, Value]]:
        walk = TableWalk(columns)
        await self._walk(walk, max_repetitions, None)
        return walk.result

    async def walk_table_timed(
        self, columns: Sequence[str], *, scalars: Sequence[str] = (), max_repetitions: int = 50,
        clock: Clock = time.time,
    ) -> TimedTable:
        walk = TableWalk(columns, scalars=scalars)
        await self._walk(walk, max_repetitions, clock)
        return walk.timed_table()


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, client: V2cClient):
        self._client = client

    def datagram_received(self, data: bytes, addr: object) -> None:
        self._client._on_datagram(data)

    def error_received(self, exc: Exception) -> None:
        self._client._problem(f"socket error: {exc}")


class V2cClient(TableWalking):
    """:class:`~collector.snmp.protocol.SnmpClient` for SNMPv2c. Create with keywords; close when done."""

    def __init__(
        self, *, device_name: str, host: str, port: int, community: str, timeout_s: float, retries: int
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"{device_name}: timeout_s must be > 0, got {timeout_s}")
        if retries < 0:
            raise ValueError(f"{device_name}: retries must be >= 0, got {retries}")
        self.device = device_name
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.retries = retries
        self._community = community.encode()
        self._transport: asyncio.DatagramTransport | None = None
        self._connect_lock = asyncio.Lock()
        self._pending: dict[int, tuple[asyncio.Future[tuple[ber.Message, float]], Clock]] = {}
        self._next_id = random.randrange(1, 2**30)
        self._problems: deque[tuple[float, str]] = deque(maxlen=64)  # (monotonic time, what) of bad datagrams
        self.stray_responses = 0  # responses ignored because their request-id matched no request in flight

    def __repr__(self) -> str:
        return f"V2cClient(device={self.device!r}, {self.host}:{self.port})"

    # ------------------------------------------------------------------------------------------ transport

    async def _ensure_transport(self) -> asyncio.DatagramTransport:
        if self._transport is not None:
            return self._transport
        async with self._connect_lock:
            if self._transport is None:
                try:
                    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                        lambda: _Endpoint(self), remote_addr=(self.host, self.port)
                    )
                except OSError as exc:
                    raise SnmpError(
                        self.device, f"cannot open UDP socket to {self.host}:{self.port}: {exc}"
                    ) from exc
                self._transport = transport
        return self._transport

    def _on_datagram(self, data: bytes) -> None:
        try:
            msg = ber.decode_message(data)
        except BerError as exc:
            self._problem(f"undecodable response ({exc})")
            return
        if msg.pdu_type != ber.PDU_RESPONSE:
            self._problem(f"unexpected PDU type 0x{msg.pdu_type:02x}")
            return
        pending = self._pending.get(msg.request_id)
        if pending is None:
            self.stray_responses += 1
            self._problem("ignored response(s) with a request-id that matches no request in flight "
                          "(stale answer to an earlier request, or spoofed)")
            return
        fut, clock = pending
        if not fut.done():
            fut.set_result((msg, clock()))  # stamped on arrival: the reading's time is when its counters came

    def _problem(self, what: str) -> None:
        self._problems.append((time.monotonic(), what))

    def _problems_since(self, since: float) -> str:
        """The problems seen since ``since`` (monotonic), each once with its count, or ''."""
        counts: dict[str, int] = {}
        for at, what in self._problems:
            if at >= since:
                counts[what] = counts.get(what, 0) + 1
        return "; ".join(what if n == 1 else f"{what} ×{n}" for what, n in counts.items())

    def _take_request_id(self) -> int:
        rid = self._next_id
        self._next_id = rid + 1 if rid < 2**31 - 1 else 1
        return rid

    async def _request(self, build: Callable[[int], bytes], what: str,
                       clock: Clock = time.time) -> tuple[ber.Message, float]:
        """Send until answered; the answer and ``clock()`` at its arrival."""
        transport = await self._ensure_transport()
        rid = self._take_request_id()
        try:
            packet = build(rid)
        except BerError as exc:
            raise SnmpError(self.device, f"{what}: cannot encode request: {exc}") from exc
        fut: asyncio.Future[tuple[ber.Message, float]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (fut, clock)
        sent_at = time.monotonic()
        try:
            for _attempt in range(self.retries + 1):
                transport.sendto(packet)
                done, _ = await asyncio.wait((fut,), timeout=self.timeout_s)
                if done:
                    return fut.result()
        finally:
            del self._pending[rid]
            if not fut.done():
                fut.cancel()
        problems = self._problems_since(sent_at)
        hint = f"; meanwhile: {problems}" if problems else " (unreachable or wrong community?)"
        raise SnmpTimeout(
            self.device,
            f"{what}: no response from {self.host}:{self.port} after {self.retries + 1} attempt(s) of "
            f"{self.timeout_s:g} s{hint}",
        )

    def _check(self, msg: ber.Message, what: str) -> None:
        if msg.error_status:
            name = (
                ber.ERROR_STATUS_NAMES[msg.error_status]
                if msg.error_status < len(ber.ERROR_STATUS_NAMES)
                else f"error {msg.error_status}"
            )
            raise SnmpError(self.device, f"{what}: agent answered {name} (errorIndex {msg.error_index})")

    # ------------------------------------------------------------------------------------------ operations

    async def get(self, oids: Sequence[str]) -> dict[str, Value]:
        oids = [o.strip(".") for o in oids]
        chunks = [oids[i : i + MAX_VARBINDS_PER_GET] for i in range(0, len(oids), MAX_VARBINDS_PER_GET)]
        replies = await asyncio.gather(*(self._get_chunk(c) for c in chunks))
        out: dict[str, Value] = {}
        for r, _ in replies:
            out.update(r)
        return out

    async def _get_chunk(self, oids: list[str], clock: Clock = time.time) -> tuple[dict[str, Value], float]:
        community = self._community
        what = f"GET {oids[0]}" + (f" (+{len(oids) - 1})" if len(oids) > 1 else "")
        msg, time_s = await self._request(
            lambda rid: ber.encode_get(request_id=rid, community=community, oids=oids), what, clock
        )
        self._check(msg, what)
        if len(msg.varbinds) != len(oids):
            raise SnmpError(
                self.device, f"{what}: asked {len(oids)} varbinds, agent answered {len(msg.varbinds)}"
            )
        return {oid: value for (_, _, value), oid in zip(msg.varbinds, oids)}, time_s

    async def _walk(self, walk: TableWalk, max_repetitions: int, clock: Clock | None) -> None:
        community = self._community
        reps = max(1, max_repetitions)
        nr = len(walk.scalars)
        while walk.active:
            oids = walk.request_oids()
            what = f"GETBULK {oids[nr]}" + (f" (+{len(oids) - 1})" if len(oids) > 1 else "")
            msg, time_s = await self._request(
                lambda rid, oids=oids, reps=reps: ber.encode_getbulk(
                    request_id=rid, community=community, oids=oids, max_repetitions=reps, non_repeaters=nr
                ),
                what,
                clock or time.time,
            )
            if msg.error_status == ber.ERROR_TOO_BIG and reps > 1:
                reps = max(1, reps // 2)  # the answer did not fit one datagram: ask for fewer rows
                continue
            self._check(msg, what)
            try:
                walk.feed(msg.varbinds, time_s if clock is not None else None)
            except ValueError as exc:
                raise SnmpError(self.device, f"{what}: {exc}") from exc

    async def get_rows(self, columns: Sequence[str], indexes: Sequence[int]) -> dict[str, dict[int, Value]]:
        return await get_rows_by_get(self, columns, indexes)

    async def get_rows_timed(
        self, columns: Sequence[str], indexes: Sequence[int], *, scalars: Sequence[str] = (),
        clock: Clock = time.time,
    ) -> TimedTable:
        cols = [c.strip(".") for c in columns]
        scalars = [s.strip(".") for s in scalars]
        chunks = row_chunks(indexes, columns=len(cols), scalars=len(scalars))
        replies = await asyncio.gather(*(
            self._get_chunk([*scalars, *(f"{c}.{i}" for i in chunk for c in cols)], clock) for chunk in chunks))
        return timed_table(cols, scalars, chunks, replies)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
