"""The small interface the poller talks to (snmp_exporter's scraper pattern): GET, table walk, row GET, close.

The real clients (:mod:`collector.snmp.v2c_client`, :mod:`collector.snmp.pysnmp_client`) implement it; counter math
never knows whether it was UDP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from linewatch.choices import SnmpAuthProtocol, SnmpPrivProtocol

Value = int | bytes | str | None
"""Counters/gauges/timeticks/integers -> int; OCTET STRING -> bytes; OID/IpAddress -> str; noSuch*/endOfMibView -> None."""

MAX_VARBINDS_PER_GET = 60
"""GET requests are chunked to at most this many varbinds per PDU (fits a 1,500-byte reply for counters)."""


@dataclass(frozen=True)
class V3Credentials:
    """SNMPv3 USM credentials. Keys are plain ``str`` here; the config layer unwraps its SecretStr only when building
    the client. ``priv_protocol=None`` means authNoPriv; ``auth_protocol=None`` means noAuthNoPriv."""

    user: str
    auth_protocol: SnmpAuthProtocol | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: SnmpPrivProtocol | None = None
    priv_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.auth_protocol is not None and not self.auth_key:
            raise ValueError(
                f"SNMPv3 user {self.user!r}: auth_protocol {self.auth_protocol} needs an auth_key"
            )
        if self.priv_protocol is not None:
            if self.auth_protocol is None:
                raise ValueError(
                    f"SNMPv3 user {self.user!r}: privacy (priv_protocol) requires an auth_protocol"
                )
            if not self.priv_key:
                raise ValueError(
                    f"SNMPv3 user {self.user!r}: priv_protocol {self.priv_protocol} needs a priv_key"
                )
        for name in ("auth_key", "priv_key"):
            key = getattr(self, name)
            if key is not None and len(key) < 8:
                raise ValueError(
                    f"SNMPv3 user {self.user!r}: {name} must be at least 8 characters (RFC 3414)"
                )


Clock = Callable[[], float]
"""Wall clock (epoch seconds) a timed read stamps each response with when it arrives; tests inject their own."""


@dataclass(frozen=True, slots=True)
class Response:
    """One response PDU of a timed read: when it arrived and the scalars it carried (missing ones map to None)."""

    time_s: float
    scalars: dict[str, Value]


@dataclass
class TimedTable:
    """Cells of a table read by a timed read, with the response PDU that carried each cell.

    ``values``: column -> {index: value}, as ``walk_table``/``get_rows`` return; ``response_of``: column ->
    {index: position in ``responses``}."""

    values: dict[str, dict[int, Value]]
    responses: list[Response]
    response_of: dict[str, dict[int, int]]

    def response(self, column: str, index: int) -> Response | None:
        n = self.response_of.get(column, {}).get(index)
        return None if n is None else self.responses[n]

    def update(self, other: TimedTable) -> None:
        """Add ``other``'s cells (a later read), keeping each cell's own response."""
        offset = len(self.responses)
        self.responses.extend(other.responses)
        for col, values in other.values.items():
            self.values.setdefault(col, {}).update(values)
            self.response_of.setdefault(col, {}).update(
                {ix: n + offset for ix, n in other.response_of.get(col, {}).items()})


@runtime_checkable
class SnmpClient(Protocol):
    """Something that can GET and WALK one device. Errors: ``SnmpTimeout``, ``SnmpAuthError``, ``SnmpError``."""

    device: str

    async def get(self, oids: Sequence[str]) -> dict[str, Value]:
        """GET scalar OIDs (dotted, no leading dot); missing objects map to None."""
        ...

    async def walk_table(
        self, columns: Sequence[str], *, max_repetitions: int = 50
    ) -> dict[str, dict[int, Value]]:
        """GETBULK-walk columns of a table indexed by one integer, in parallel: column -> {index: value}."""
        ...

    async def get_rows(self, columns: Sequence[str], indexes: Sequence[int]) -> dict[str, dict[int, Value]]:
        """GET ``column.index`` for every column and index (chunked): column -> {index: value}."""
        ...

    async def walk_table_timed(
        self, columns: Sequence[str], *, scalars: Sequence[str] = (), max_repetitions: int = 50,
        clock: Clock = time.time,
    ) -> TimedTable:
        """``walk_table`` with ``scalars`` (instances such as sysUpTime.0) read as non-repeaters of every GETBULK,
        and every response stamped with ``clock()`` when it arrives."""
        ...

    async def get_rows_timed(
        self, columns: Sequence[str], indexes: Sequence[int], *, scalars: Sequence[str] = (),
        clock: Clock = time.time,
    ) -> TimedTable:
        """``get_rows`` with ``scalars`` in every GET PDU, every response stamped with ``clock()`` when it arrives,
        and the cells of one index never split across two PDUs."""
        ...

    async def close(self) -> None: ...


async def get_rows_by_get(client: SnmpClient, columns: Sequence[str], indexes: Sequence[int]) -> dict[str, dict[int, Value]]:
    """``get_rows`` on top of ``get``: one ``column.index`` OID per cell (``get`` chunks the PDUs)."""
    cols = [c.strip(".") for c in columns]
    pairs = [(c, i) for i in indexes for c in cols]
    values = await client.get([f"{c}.{i}" for c, i in pairs])
    out: dict[str, dict[int, Value]] = {c: {} for c in cols}
    for c, i in pairs:
        out[c][i] = values[f"{c}.{i}"]
    return out


def row_chunks(indexes: Sequence[int], *, columns: int, scalars: int) -> list[list[int]]:
    """Split ``indexes`` into GET PDUs of whole rows: at most MAX_VARBINDS_PER_GET varbinds with the scalars (at
    least one row per PDU)."""
    per_pdu = max(1, (MAX_VARBINDS_PER_GET - scalars) // max(1, columns))
    return [list(indexes[i : i + per_pdu]) for i in range(0, len(indexes), per_pdu)]


def timed_table(columns: Sequence[str], scalars: Sequence[str], chunks: Sequence[Sequence[int]],
                replies: Sequence[tuple[dict[str, Value], float]]) -> TimedTable:
    """Assemble a :class:`TimedTable` from GET replies (``oid -> value``, arrival time), one per chunk of rows."""
    cols = [c.strip(".") for c in columns]
    table = TimedTable(values={c: {} for c in cols}, responses=[], response_of={c: {} for c in cols})
    for n, (chunk, (values, time_s)) in enumerate(zip(chunks, replies)):
        table.responses.append(Response(time_s, {s: values.get(s) for s in scalars}))
        for c in cols:
            vals, resp = table.values[c], table.response_of[c]
            for i in chunk:
                vals[i] = values.get(f"{c}.{i}")
                resp[i] = n
    return table


def scalar_parent(oid: str) -> str:
    """The OID a GETBULK non-repeater must name to get the scalar instance ``oid`` (GETNEXT semantics)."""
    parent, _, _ = oid.strip(".").rpartition(".")
    return parent
