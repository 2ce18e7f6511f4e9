"""Find a configured interface name among a device's ifName and ifDescr values. Pure: no I/O.

Real devices are untidy, so a name is matched on the raw bytes the device sent, not on a lossy decoding:

* NULs at either end are stripped (media converters send ``b"port1\\x00"``).
* The configured text matches a value when its UTF-8 *or* its Latin-1 encoding equals the value's bytes, so a name
  that is not UTF-8 (``b"B\\xfcro"``) can be written in the config as the Latin-1 text (``"Büro"``).
* ifName is looked at first. Only when no ifName matches (devices without ifXTable, e.g. Ruijie and old switches,
  have none) is ifDescr looked at. The match says which column it came from.
* A name that matches two ifIndexes in the same column is never guessed (HPE reports two ``lo0``): the line has to
  name its ``if_index`` instead.

Every message shows the device's values with ``repr`` so invisible characters can be seen.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from collector.snmp import ifmib
from collector.snmp.protocol import Value

IF_NAME = "ifName"
IF_DESCR = "ifDescr"
COLUMN_OIDS = {IF_NAME: ifmib.IF_NAME, IF_DESCR: ifmib.IF_DESCR}
"""Label -> OID of the columns names are matched against, in the order they are tried."""

CLOSE_CANDIDATES = 3


def raw_name(value: Value) -> bytes | None:
    """The device's value as bytes with NULs at either end stripped; None when it is not a string."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        return None
    return value.strip(b"\x00")


def text_of(raw: bytes) -> str:
    """Readable text of a device's value: UTF-8 when valid, else Latin-1 (which decodes any byte)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def shown(value: Value) -> str:
    """``repr`` of what the device sent: the text when it is UTF-8, else the bytes (``b'B\\xfcro'``)."""
    if isinstance(value, bytes):
        try:
            return repr(value.decode("utf-8"))
        except UnicodeDecodeError:
            return repr(value)
    return repr(value)


def config_keys(name: str) -> tuple[bytes, ...]:
    """The byte strings a configured name may match: its UTF-8 and (when different and possible) Latin-1 forms."""
    utf8 = name.encode("utf-8").strip(b"\x00")
    try:
        latin1 = name.encode("latin-1").strip(b"\x00")
    except UnicodeEncodeError:
        return (utf8,)
    return (utf8,) if latin1 == utf8 else (utf8, latin1)


@dataclass(frozen=True, slots=True)
class Resolved:
    if_index: int
    column: str  # IF_NAME or IF_DESCR


@dataclass(frozen=True, slots=True)
class Unresolved:
    """The line cannot be located; ``message`` says why and what the device offered."""

    message: str
    ambiguous: bool = False


@dataclass
class InterfaceNames:
    """ifName and ifDescr of one device, indexed by their raw bytes. Build with :meth:`from_table`.

    The names do not change once read, so each configured name is resolved once: the poller asks every poll, and
    a name that is not found would otherwise rank every ifName and ifDescr (``difflib``) each time, on the event
    loop that stamps the other devices' responses.
    """

    device: str
    values: dict[str, dict[int, Value]] = field(default_factory=dict)  # label -> {ifIndex: value as sent}
    interface_count: int = 0  # distinct ifIndexes over the columns
    _by_key: dict[str, dict[bytes, list[int]]] = field(default_factory=dict, repr=False)
    _resolved: dict[str, Resolved | Unresolved] = field(default_factory=dict, repr=False)

    @classmethod
    def from_table(cls, device: str, table: Mapping[str, Mapping[int, Value]]) -> InterfaceNames:
        """From a walk of the :data:`COLUMN_OIDS` columns (OID -> {ifIndex: value})."""
        names = cls(device)
        for label, oid in COLUMN_OIDS.items():
            column = dict(table.get(oid, {}))
            names.values[label] = column
            by_key: dict[bytes, list[int]] = {}
            for ix, value in column.items():
                raw = raw_name(value)
                if raw is not None:
                    by_key.setdefault(raw, []).append(ix)
            names._by_key[label] = by_key
        names.interface_count = len(set().union(*names.values.values()))
        return names

    def unique_names(self) -> dict[str, int]:
        """Readable ifName -> ifIndex for the names that appear once."""
        return {text_of(raw): ixs[0] for raw, ixs in self._by_key.get(IF_NAME, {}).items() if len(ixs) == 1}

    def resolve(self, name: str) -> Resolved | Unresolved:
        """The ifIndex ``name`` designates (and the column it matched), or why there is none."""
        found = self._resolved.get(name)
        if found is None:
            found = self._resolved[name] = self._resolve(name)
        return found

    def _resolve(self, name: str) -> Resolved | Unresolved:
        keys = config_keys(name)
        for label in COLUMN_OIDS:
            by_key = self._by_key.get(label, {})
            hits = sorted({ix for k in keys for ix in by_key.get(k, ())})
            if len(hits) == 1:
                return Resolved(hits[0], label)
            if len(hits) > 1:
                column = self.values[label]
                where = ", ".join(f"{ix} ({shown(column[ix])})" for ix in hits)
                return Unresolved(
                    f"interface {name!r} is ambiguous on {self.device}: {len(hits)} interfaces have that {label} "
                    f"(ifIndex {where}); refusing to guess — give the line if_index instead of interface",
                    ambiguous=True,
                )
        return Unresolved(self._not_found(name))

    def _not_found(self, name: str) -> str:
        if not any(self.values.values()):
            return f"interface {name!r} not found on {self.device}: the device reported no interfaces"
        counts = {label: len(self.values.get(label, {})) for label in COLUMN_OIDS}
        offered = f"{counts[IF_NAME]} {IF_NAME}" + (" (no ifXTable)" if not counts[IF_NAME] else "")
        offered += f" and {counts[IF_DESCR]} {IF_DESCR} values"
        candidates: dict[str, Value] = {}
        for column in self.values.values():
            for value in column.values():
                raw = raw_name(value)
                if raw is not None:
                    candidates.setdefault(text_of(raw), value)
        close = difflib.get_close_matches(name, list(candidates), n=CLOSE_CANDIDATES, cutoff=0.5)
        tail = f"; closest: {', '.join(shown(candidates[c]) for c in close)}" if close else ""
        return f"interface {name!r} not found on {self.device}: checked its {offered}{tail}"
