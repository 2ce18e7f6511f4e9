"""The small interface the poller talks to (snmp_exporter's scraper pattern): GET, table walk, row GET, close.

The real clients (:mod:`collector.snmp.v2c_client`, :mod:`collector.snmp.pysnmp_client`) implement it; counter math
never knows whether it was UDP.
"""

from __future__ import annotations

from collections.abc import Sequence
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
