"""InfluxDB line protocol: the :class:`Point` value and its encoder.

Escaping follows the InfluxDB 1.x parser (also used by 2.x/3.x):

* measurement: ``,`` and space are backslash-escaped;
* tag keys, tag values, field keys: ``,``, ``=`` and space are backslash-escaped;
* string field values: ``"`` and ``\\`` are backslash-escaped, the value is double-quoted;
* integers get the ``i`` suffix, booleans are ``true``/``false``, floats use ``repr`` (shortest round-trip form).

Policy: tags are written sorted by key (what InfluxDB recommends for speed); a tag with an empty value is omitted
(InfluxDB has no empty tags); NaN and ±inf fields are skipped (line protocol cannot carry them); a point left with
no field is skipped. A point that cannot be represented at all (empty name, newline in a name or tag, a name ending
with a backslash, integer outside int64, field value of another type) raises
:class:`~linewatch.errors.LineProtocolError` from :func:`encode_point`; :func:`encode_points` logs and skips it so
one bad interface description cannot lose a whole collector cycle.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from linewatch.errors import LineProtocolError

log = logging.getLogger(__name__)

FieldValue = float | int | bool | str

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})


@dataclass(frozen=True, slots=True)
class Point:
    """One InfluxDB point: ``measurement``, ``tags``, ``fields`` and a timestamp in nanoseconds since the epoch."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int


def _check_name(what: str, name: str) -> None:
    if not name:
        raise LineProtocolError(f"{what} is empty")
    if "\n" in name or "\r" in name:
        raise LineProtocolError(f"{what} {name!r} contains a newline")
    if name.endswith("\\"):
        raise LineProtocolError(f"{what} {name!r} ends with a backslash, which line protocol cannot carry")


@lru_cache(maxsize=65536)
def _escape_measurement(name: str) -> str:
    _check_name("measurement", name)
    if name.startswith("#"):
        raise LineProtocolError(
            f"measurement {name!r} starts with '#', which line protocol reads as a comment"
        )
    return name.translate(_MEASUREMENT_ESCAPES)


@lru_cache(maxsize=65536)
def _escape_key(name: str) -> str:
    _check_name("tag/field name", name)
    return name.translate(_KEY_ESCAPES)


@lru_cache(maxsize=65536)
def _escape_tag_value(value: str) -> str:
    _check_name("tag value", value)
    return value.translate(_KEY_ESCAPES)


def _series_key(measurement: str, tags: Mapping[str, str]) -> str:
    parts = [_escape_measurement(measurement)]
    for key in sorted(tags):
        value = tags[key]
        if value == "" or value is None:
            continue
        if not isinstance(value, str):
            raise LineProtocolError(f"tag {key!r} of {measurement!r} is {type(value).__name__}, not str")
        parts.append(f"{_escape_key(key)}={_escape_tag_value(value)}")
    return ",".join(parts)


def _field_value(measurement: str, key: str, value: object) -> str | None:
    kind = type(value)
    if kind is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return repr(value)
        return None
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            return f"{value}i"
        raise LineProtocolError(f"field {key!r} of {measurement!r}: integer {value} is outside int64")
    if kind is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'  # type: ignore[attr-defined]
    # Subclasses and numpy scalars: classify by behaviour, then encode as the plain type.
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return _field_value(measurement, key, bool(value))
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return _field_value(measurement, key, float(value))  # type: ignore[arg-type]
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return _field_value(measurement, key, int(value))  # type: ignore[call-overload]
    if isinstance(value, str):
        return _field_value(measurement, key, str(value))
    raise LineProtocolError(f"field {key!r} of {measurement!r} has unsupported type {type(value).__name__}")


_SERIES_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
_SERIES_CACHE_MAX = 200_000


def _cached_series_key(measurement: str, tags: Mapping[str, str]) -> str:
    cache_key = (measurement, tuple(tags.items()))
    try:
        return _SERIES_CACHE[cache_key]
    except KeyError:
        pass
    except TypeError:  # unhashable tag value: let _series_key name it
        return _series_key(measurement, tags)
    series = _series_key(measurement, tags)
    if len(_SERIES_CACHE) >= _SERIES_CACHE_MAX:
        _SERIES_CACHE.clear()
    _SERIES_CACHE[cache_key] = series
    return series


def encode_point(p: Point) -> str:
    """Encode one point as a line (without newline); ``""`` when no field is left (all NaN/inf).

    Raises :class:`~linewatch.errors.LineProtocolError` when the point cannot be represented.
    """
    fields = []
    measurement = p.measurement
    for key, value in p.fields.items():
        if type(value) is float:  # the hot path: counters and rates
            if value - value != 0.0:  # NaN or ±inf
                continue
            encoded: str | None = repr(value)
        else:
            encoded = _field_value(measurement, key, value)
            if encoded is None:
                continue
        fields.append(f"{_escape_key(key)}={encoded}")
    if not fields:
        return ""
    if type(p.time_ns) is not int:
        raise LineProtocolError(f"time_ns of {measurement!r} is {type(p.time_ns).__name__}, not int")
    return f"{_cached_series_key(measurement, p.tags)} {','.join(fields)} {p.time_ns}"


def encode_lines(points: Iterable[Point]) -> list[str]:
    """Encode points to lines, skipping (and logging) points without fields or that cannot be represented."""
    lines = []
    for p in points:
        try:
            line = encode_point(p)
        except LineProtocolError as exc:
            log.warning("skipping point that cannot be written as line protocol: %s", exc)
            continue
        if line:
            lines.append(line)
    return lines


def encode_points(points: Iterable[Point]) -> bytes:
    """Encode points to one newline-terminated UTF-8 line-protocol body (see :func:`encode_lines`)."""
    lines = encode_lines(points)
    if not lines:
        return b""
    return ("\n".join(lines) + "\n").encode()
