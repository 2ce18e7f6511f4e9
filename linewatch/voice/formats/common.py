"""What every CDR format shares (docs/cdr.md): the outcome tables, call keys, reading CSV rows column-wise with
their file row numbers, parsing times in a zone, and quarantining bad rows.

Everything here works on whole columns (pyarrow / pandas / numpy); a Python loop runs only over the few rejected
rows (to quote them) and over the PBX's distinct values, never once per call.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from linewatch.choices import CallDirection, CallOutcome
from linewatch.voice.frame import CALL_COLUMNS, conform, empty_calls
from linewatch.voice.records import RowProblem

RAW_MAX = 500  # RowProblem.raw is cut to this many characters

# --- outcomes -------------------------------------------------------------------------------------------------------
# Blocked = all circuits busy. A SIP 503 (Service Unavailable) or 486 (Busy Here) answered by the *carrier side* of a
# trunk means the trunk (or the carrier's network) had no channel for the call; towards an extension a 486 is only
# the called person being busy. Q.850 causes of the congestion family mean the same on any side.
BLOCKING_SIP_CODES = frozenset({486, 503})
BLOCKING_Q850_CAUSES = frozenset({
    34,  # no circuit/channel available
    38,  # network out of order
    41,  # temporary failure
    42,  # switching equipment congestion
    44,  # requested circuit/channel not available
    47,  # resource unavailable, unspecified
})  # fmt: skip
BUSY_SIP_CODES = frozenset({486, 600})  # busy here / busy everywhere (extension side)
BUSY_Q850_CAUSES = frozenset({17})  # user busy
NO_ANSWER_SIP_CODES = frozenset({408, 480, 487})  # timeout, temporarily unavailable, request terminated (cancel)
NO_ANSWER_Q850_CAUSES = frozenset({16, 18, 19})  # normal clearing before answer (caller gave up), no user
# response, no answer

# Asterisk cdr_csv ``disposition`` (ast_cdr_disp2str). BUSY on the trunk side is the carrier's 486: blocked.
ASTERISK_DISPOSITIONS: dict[str, CallOutcome] = {
    "ANSWERED": CallOutcome.ANSWERED,
    "NO ANSWER": CallOutcome.NO_ANSWER,
    "BUSY": CallOutcome.BUSY,
    "FAILED": CallOutcome.FAILED,
    "CONGESTION": CallOutcome.BLOCKED,
}

# FreeSWITCH hangup cause names and their Q.850 codes (switch_types.h, switch_channel_cause_t). The outcome of an
# unanswered call then follows the Q.850 rules above; names without a Q.850 code are in FREESWITCH_OUTCOMES.
FREESWITCH_Q850: dict[str, int] = {
    "UNALLOCATED_NUMBER": 1,
    "NO_ROUTE_TRANSIT_NET": 2,
    "NO_ROUTE_DESTINATION": 3,
    "CHANNEL_UNACCEPTABLE": 6,
    "CALL_AWARDED_DELIVERED": 7,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21,
    "NUMBER_CHANGED": 22,
    "REDIRECTION_TO_NEW_DESTINATION": 23,
    "EXCHANGE_ROUTING_ERROR": 25,
    "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28,
    "FACILITY_REJECTED": 29,
    "RESPONSE_TO_STATUS_ENQUIRY": 30,
    "NORMAL_UNSPECIFIED": 31,
    "NORMAL_CIRCUIT_CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "SWITCH_CONGESTION": 42,
    "ACCESS_INFO_DISCARDED": 43,
    "REQUESTED_CHAN_UNAVAIL": 44,
    "PRE_EMPTED": 45,
    "FACILITY_NOT_SUBSCRIBED": 50,
    "OUTGOING_CALL_BARRED": 52,
    "INCOMING_CALL_BARRED": 54,
    "BEARERCAPABILITY_NOTAUTH": 57,
    "BEARERCAPABILITY_NOTAVAIL": 58,
    "SERVICE_UNAVAILABLE": 63,
    "BEARERCAPABILITY_NOTIMPL": 65,
    "CHAN_NOT_IMPLEMENTED": 66,
    "FACILITY_NOT_IMPLEMENTED": 69,
    "SERVICE_NOT_IMPLEMENTED": 79,
    "INVALID_CALL_REFERENCE": 81,
    "INCOMPATIBLE_DESTINATION": 88,
    "INVALID_MSG_UNSPECIFIED": 95,
    "MANDATORY_IE_MISSING": 96,
    "MESSAGE_TYPE_NONEXIST": 97,
    "WRONG_MESSAGE": 98,
    "IE_NONEXIST": 99,
    "INVALID_IE_CONTENTS": 100,
    "WRONG_CALL_STATE": 101,
    "RECOVERY_ON_TIMER_EXPIRE": 102,
    "MANDATORY_IE_LENGTH_ERROR": 103,
    "PROTOCOL_ERROR": 111,
    "INTERWORKING": 127,
}
FREESWITCH_OUTCOMES: dict[str, CallOutcome] = {  # FreeSWITCH's own causes (no Q.850 code), when not answered
    "ORIGINATOR_CANCEL": CallOutcome.NO_ANSWER,  # the caller hung up while it rang (SIP 487)
    "LOSE_RACE": CallOutcome.NO_ANSWER,  # another leg of a ring group answered
    "PICKED_OFF": CallOutcome.NO_ANSWER,
    "NO_PICKUP": CallOutcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": CallOutcome.NO_ANSWER,
    "USER_NOT_REGISTERED": CallOutcome.FAILED,
    "MEDIA_TIMEOUT": CallOutcome.FAILED,
    "GATEWAY_DOWN": CallOutcome.FAILED,
}


def _isin(values: pd.Series | None, codes: frozenset[int], n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    return values.isin(codes).fillna(False).to_numpy(dtype=bool)


def outcomes(*, answered: np.ndarray, sip_code: pd.Series | None = None, q850_cause: pd.Series | None = None,
             carrier_side: np.ndarray | None = None, fallback: pd.Series | None = None) -> pd.Series:
    """The CallOutcome of each attempt, column-wise: answered; else blocked (a 503/486 — or its Q.850 17 — from the
    carrier side, or a Q.850 congestion cause); busy (486/600, Q.850 17); no answer (408/480/487, Q.850 16/18/19);
    else ``fallback`` (the format's own verdict, e.g. a disposition), else failed."""
    n = len(answered)
    side = np.zeros(n, dtype=bool) if carrier_side is None else np.asarray(carrier_side, dtype=bool)
    busy = _isin(sip_code, BUSY_SIP_CODES, n) | _isin(q850_cause, BUSY_Q850_CAUSES, n)
    blocked = ((_isin(sip_code, BLOCKING_SIP_CODES, n) | _isin(q850_cause, BUSY_Q850_CAUSES, n)) & side) | _isin(
        q850_cause, BLOCKING_Q850_CAUSES, n)
    no_answer = _isin(sip_code, NO_ANSWER_SIP_CODES, n) | _isin(q850_cause, NO_ANSWER_Q850_CAUSES, n)
    other = (np.full(n, CallOutcome.FAILED.value, dtype=object) if fallback is None
             else fallback.fillna(CallOutcome.FAILED.value).to_numpy(dtype=object))
    chosen = np.select(
        [np.asarray(answered, dtype=bool), blocked, busy, no_answer],
        [CallOutcome.ANSWERED.value, CallOutcome.BLOCKED.value, CallOutcome.BUSY.value, CallOutcome.NO_ANSWER.value],
        default=other,
    )
    return pd.Series(chosen, dtype="string")


# --- call keys ------------------------------------------------------------------------------------------------------
def key_prefix(source: str) -> str:
    """The first 16 hex digits of sha1(source name): the per-source part of every call key."""
    return hashlib.sha1(source.encode()).hexdigest()[:16]


def call_keys(source: str, ids: object) -> pd.Series:
    """``<key_prefix(source)>:<the PBX's unique id>``: stable across re-reads, distinct between sources (a
    column-wise concatenation: hashing a million ids one by one would cost more than reading the file)."""
    arr = arrow(ids)
    arr = arr if arr.type == pa.string() else pc.cast(arr, pa.string())
    return strings(pc.binary_join_element_wise(key_prefix(source) + ":", arr, ""))


def row_keys(source: str, raw: Iterable[str]) -> pd.Series:
    """For rows without a PBX id: ``<key_prefix(source)>:r<sha1 of the raw row text>`` (one hash per row: only for
    formats that lack an id)."""
    prefix = key_prefix(source) + ":r"
    return pd.Series([prefix + hashlib.sha1(r.encode()).hexdigest() for r in raw], dtype="string")


# --- CSV rows -------------------------------------------------------------------------------------------------------
@dataclass
class CsvRows:
    """The rows of a CSV chunk read column-wise (every value a string, "" when empty), with each row's file row
    number; rows with the wrong number of columns are already problems."""

    table: pa.Table
    rows: np.ndarray  # int64 file row number per table row
    problems: list[RowProblem]
    lines: int  # lines consumed (the chunk's line count, header included)
    file: str
    _raw_of: Callable[[int], str] = field(repr=False, default=lambda row: "")

    width: int = 0  # the file's column count (the table may hold only the columns asked for)

    def arrow(self, ref: int | str) -> pa.ChunkedArray:
        """A column by 0-based index (of the file) or name, as read."""
        if isinstance(ref, int) and f"c{ref}" in self.table.column_names:
            return self.table.column(f"c{ref}")
        return self.table.column(ref)

    def column(self, ref: int | str) -> pd.Series:
        """A column by 0-based index or name, as a pandas string Series ("" for empty)."""
        return strings(pc.fill_null(pc.cast(self.arrow(ref), pa.string()), ""))

    def raw(self, row: int) -> str:
        """The text of file row ``row`` (cut to RAW_MAX)."""
        return self._raw_of(row)[:RAW_MAX]


class _Lines:
    """Line starts of a chunk, computed only when row numbers cannot be inferred (or a row must be quoted)."""

    def __init__(self, data: bytes, encoding: str):
        self.data = data
        self.encoding = encoding
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10)
        if len(data) and data[-1:] != b"\n":
            ends = np.append(ends, len(data))
        self.ends = ends
        self.starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ends)

    def text(self, i: int) -> str:
        return self.data[int(self.starts[i]):int(self.ends[i])].decode(self.encoding, "replace").rstrip("\r")

    def empty(self) -> np.ndarray:
        lengths = self.ends - self.starts
        return np.flatnonzero((lengths == 0) | ((lengths == 1) & (np.frombuffer(self.data, np.uint8)[
            np.minimum(self.starts, max(len(self.data) - 1, 0))] == 13)))

    def find(self, texts: list[str]) -> list[int | None]:
        """The line index of each text, in order (repeated texts take successive occurrences)."""
        padded = b"\n" + self.data + b"\n"
        seen: Counter[str] = Counter()
        found: list[int | None] = []
        for text in texts:
            needle = b"\n" + text.encode(self.encoding, "replace")
            pos, hits = 0, 0
            line: int | None = None
            while True:
                at = padded.find(needle, pos)
                if at < 0:
                    break
                tail = padded[at + len(needle):at + len(needle) + 2]
                if tail[:1] == b"\n" or tail == b"\r\n":
                    if hits == seen[text]:
                        line = int(np.searchsorted(self.starts, at, side="right") - 1)
                        break
                    hits += 1
                pos = at + 1
            seen[text] += 1
            found.append(line)
        return found


def _count_columns(data: bytes, *, delimiter: str, quote: str, encoding: str, allowed: Iterable[int] | None) -> int:
    """The column count of the chunk: the most common one of its first lines (among ``allowed``)."""
    head = data[:64 << 10].decode(encoding, "replace").splitlines()[:50]
    counts = Counter(len(r) for r in csv.reader(io.StringIO("\n".join(head)), delimiter=delimiter, quotechar=quote)
                     if r)
    allowed_set = set(allowed) if allowed is not None else None
    for n, _ in counts.most_common():
        if allowed_set is None or n in allowed_set:
            return n
    return max(allowed_set) if allowed_set else 1


def read_csv_rows(data: bytes, *, file: str, first_row: int = 1, delimiter: str = ",", quote: str = '"',
                  encoding: str = "utf-8", header: bool = False, columns: int | Iterable[int] | None = None,
                  column_names: list[str] | None = None, types: Mapping[int, pa.DataType] | None = None,
                  timestamp_format: str | None = None, include: Iterable[int] | None = None) -> CsvRows:
    """Read a chunk of complete CSV lines with pyarrow, every column as a string ("" when empty).

    ``columns``: the expected column count, or the counts allowed (the chunk's most common one is taken); a row
    with another count is a problem ("truncated row: 9 of 18 columns"). ``header``: the chunk's first line names the
    columns (only when ``first_row`` is 1). Empty lines are skipped silently; row numbers stay the file's.
    ``types``: columns (by index) to convert while reading — integers, or timestamps in ``timestamp_format`` (empty
    → null) — the fast path; when any value of the chunk does not convert, the whole chunk is read as strings and
    the caller's own checks name the bad rows. ``include``: only these columns (by index) are converted; the
    others are parsed for their count but not kept (``CsvRows.arrow(i)`` still finds a column by its index)."""
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    encoding = "utf-8" if utf8 else encoding
    has_header = header and first_row == 1
    if column_names is None:
        allowed = [columns] if isinstance(columns, int) else columns
        if has_header:
            first = data.split(b"\n", 1)[0].decode(encoding, "replace").rstrip("\r")
            column_names = next(csv.reader([first], delimiter=delimiter, quotechar=quote), [])
        else:
            column_names = [f"c{i}" for i in range(
                _count_columns(data, delimiter=delimiter, quote=quote, encoding=encoding, allowed=allowed))]
    width = len(column_names)
    names = [f"c{i}" for i in range(width)]  # unique names for pyarrow; header names kept apart
    invalid: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.actual_columns, row.text))
        return "skip"

    kept = None if include is None else [names[i] for i in include if i < width]

    def read(typed: bool) -> pa.Table:
        invalid.clear()
        column_types = dict.fromkeys(names, pa.string())
        if typed:
            column_types |= {names[i]: t for i, t in (types or {}).items() if i < width}
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if has_header else 0, encoding=encoding,
                                           block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=quote, double_quote=True,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types=column_types, null_values=[""],
                                                 include_columns=kept,
                                                 strings_can_be_null=False, quoted_strings_can_be_null=True,
                                                 timestamp_parsers=[timestamp_format] if timestamp_format else None),
        )

    def read_any() -> pa.Table:
        try:
            return read(bool(types))
        except pa.ArrowInvalid:
            if not types:
                raise
            return read(False)

    try:
        table = read_any()
    except pa.ArrowInvalid:
        if not utf8:
            raise
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:  # a stray byte must not sink the chunk: replace it, keep the rows
            data = data.decode("utf-8", "replace").encode("utf-8")
            table = read_any()
        else:
            raise
    if include is None and len(set(column_names)) == width:
        table = table.rename_columns(column_names)
    lines_cache: list[_Lines] = []

    def lines() -> _Lines:
        if not lines_cache:
            lines_cache.append(_Lines(data, encoding))
        return lines_cache[0]

    header_lines = 1 if has_header else 0
    problems: list[RowProblem] = []
    newlines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    plain = not invalid and newlines == table.num_rows + header_lines  # no empty line, no rejected row
    if plain:
        rows = np.arange(table.num_rows, dtype=np.int64) + first_row + header_lines
        n_lines = table.num_rows + header_lines
    else:
        idx = lines()
        n_lines = len(idx)
        skip = set(idx.empty().tolist()) | set(range(header_lines))
        for (actual, text), at in zip(invalid, idx.find([t for _, t in invalid]), strict=True):
            row = first_row + (at if at is not None else 0)
            spans = text.count("\n")  # an unterminated quote ran into the next line(s)
            if at is not None:
                skip.update(range(at, at + spans + 1))
            if spans:
                reason = (f"unterminated quote: rows {row}-{row + spans} read as one row of {actual} columns, "
                          f"expected {width}")
            elif actual < width:
                reason = f"truncated row: {actual} of {width} columns"
            else:
                reason = f"{actual} columns, expected {width}"
            problems.append(RowProblem(file, row, reason, text[:RAW_MAX]))
        keep = np.array([i for i in range(n_lines) if i not in skip], dtype=np.int64) if skip else np.arange(n_lines)
        if len(keep) != table.num_rows:  # a quoted newline: numbers are approximate from here
            keep = np.arange(table.num_rows, dtype=np.int64) + header_lines
        rows = keep + first_row

    def raw_of(row: int) -> str:
        i = row - first_row
        idx = lines()
        return idx.text(i) if 0 <= i < len(idx) else ""

    return CsvRows(table, rows, problems, n_lines, file, raw_of, width)


def arrow(values: object) -> pa.Array | pa.ChunkedArray:
    """A column as pyarrow (a pandas Series, a numpy array; pyarrow arrays as they are)."""
    if isinstance(values, pd.Series):
        values = values.array._pa_array if isinstance(values.array, pd.arrays.ArrowStringArray) else pa.array(
            values, from_pandas=True)
    elif not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(np.asarray(values))
    return pc.cast(values, pa.string()) if values.type == pa.large_string() else values


def strings(values: object) -> pd.Series:
    """A pandas string Series over a pyarrow array (no copy)."""
    arr = arrow(values)
    if arr.type != pa.string():
        arr = pc.cast(arr, pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])),
                     dtype="string")


def map_values(values: object, mapping: Mapping[str, str], *, normalize: bool = True) -> pd.Series:
    """Each value's image in ``mapping`` (<NA> when absent), looked up once per distinct value; with ``normalize``,
    keys and values compare trimmed and upper-case."""
    arr = arrow(values)
    encoded = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    keys = encoded.dictionary.to_pylist()
    table = {(k.strip().upper() if normalize else k): v for k, v in mapping.items()}
    images = pa.array([table.get(k.strip().upper() if normalize and k is not None else k) for k in keys],
                      type=pa.string())
    return strings(images.take(encoded.indices))


def seconds_of(values: object) -> tuple[np.ndarray, np.ndarray]:
    """``(seconds, bad)`` of an integer/float column read typed, or of strings (see ``parse_seconds``)."""
    arr = arrow(values)
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), np.zeros(len(arr), dtype=bool)
    return parse_seconds(strings(arr))


def times_of(values: object, *, fmt: str, timezone: str, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(epoch_s, bad)`` of a timestamp column read typed (naive, in ``timezone``), or of strings."""
    arr = arrow(values)
    if pa.types.is_timestamp(arr.type):
        naive = arr.to_numpy(zero_copy_only=False).astype("datetime64[s]")
        return _localize(naive, timezone), np.zeros(len(arr), dtype=bool)
    return parse_times(arr, fmt=fmt, timezone=timezone, strict=strict)


def is_empty(values: object) -> np.ndarray:
    """Empty ("" or null) values."""
    arr = arrow(values)
    if arr.type == pa.string():
        return pc.fill_null(pc.equal(arr, ""), True).to_numpy(zero_copy_only=False)
    return arr.is_null().to_numpy(zero_copy_only=False)


# --- times ----------------------------------------------------------------------------------------------------------
def parse_times(values: object, *, fmt: str = "%Y-%m-%d %H:%M:%S", timezone: str = "UTC",
                strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(epoch_s, bad)``: each string as epoch seconds (float, NaN when empty) and whether it was given but not a
    time. Local times take ``timezone``'s offset (see ``_localize``). ``strict``: the PBX writes zero-padded
    times, so a value must read back exactly as written (strptime takes 2026-11-31 for 1 December)."""
    arr = arrow(values)
    arr = arr if arr.type == pa.string() else pc.cast(arr, pa.string())
    empty = is_empty(arr)
    if fmt == "epoch":
        seconds = pd.to_numeric(strings(arr).where(~empty), errors="coerce").to_numpy(dtype="float64",
                                                                                    na_value=np.nan)
        return seconds, np.isnan(seconds) & ~empty
    if fmt == "iso8601":
        return _iso_times(strings(arr), empty, timezone)
    stamps = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    given = stamps.is_valid().to_numpy(zero_copy_only=False)
    bad = ~given & ~empty
    if strict and (rolled := _rolled_over(arr, stamps, fmt)) is not None:
        bad |= given & rolled
    elif strict:
        edge = given & (pc.fill_null(pc.less_equal(pc.day(stamps), 3), False).to_numpy(zero_copy_only=False)
                        | pc.fill_null(pc.less_equal(pc.second(stamps), 1), False).to_numpy(zero_copy_only=False))
        if edge.any():
            where = np.flatnonzero(edge)
            idx = pa.array(where)
            back = pc.strftime(stamps.take(idx), format=fmt)
            bad[where[~pc.equal(back, pc.utf8_trim_whitespace(arr.take(idx))).to_numpy(zero_copy_only=False)]] = True
    naive = stamps.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    naive[bad] = np.datetime64("NaT")
    return _localize(naive, timezone), bad


_WIDTHS = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}


def _positions(fmt: str) -> dict[str, int] | None:
    """Where each code of a fixed-width format starts in the text (None when a code has no fixed width)."""
    at, i, out = 0, 0, {}
    while i < len(fmt):
        if fmt[i] == "%":
            code = fmt[i:i + 2]
            if code not in _WIDTHS:
                return None
            out[code] = at
            at += _WIDTHS[code]
            i += 2
        else:
            at += 1
            i += 1
    return out


def _rolled_over(arr: pa.Array | pa.ChunkedArray, stamps: pa.Array | pa.ChunkedArray, fmt: str) -> np.ndarray | None:
    """Rows strptime normalised instead of refusing (day 29-31 read into the next month, second 60/61 into the next
    minute): with a fixed-width format, the text's day or second says so directly; None when the format is not
    fixed-width (the caller then compares the candidates written back)."""
    where = _positions(fmt)
    if where is None or "%d" not in where or "%S" not in where:
        return None
    day = pc.utf8_slice_codeunits(arr, where["%d"], where["%d"] + 2)
    second = pc.utf8_slice_codeunits(arr, where["%S"], where["%S"] + 2)
    bad = pc.fill_null(pc.greater_equal(second, "60"), False).to_numpy(zero_copy_only=False).copy()
    late = np.flatnonzero(pc.fill_null(pc.greater_equal(day, "29"), False).to_numpy(zero_copy_only=False))
    if len(late):
        parsed = pc.day(stamps.take(pa.array(late))).to_numpy(zero_copy_only=False)
        bad[late[np.nan_to_num(parsed.astype("float64"), nan=99) <= 3]] = True
    return bad


def _localize(naive: np.ndarray, timezone: str) -> np.ndarray:
    """Epoch seconds of naive local times: the zone's offset is looked up once per distinct clock hour (zones change
    offset on the hour); an hour repeated at the end of summer time is read as summer time, a time in the hour
    skipped at its start with the offset before the change (02:30 CET = 01:30 UTC)."""
    nat = np.isnat(naive)
    secs = naive.astype("datetime64[s]").astype("int64")
    out = secs.astype("float64")
    if timezone != "UTC" and not nat.all():
        hour = np.where(nat, secs[~nat][0], secs) // 3600
        first, last = int(hour.min()), int(hour.max())
        if last - first < 200_000:  # a range of clock hours (23 years): one lookup per hour of the range
            hours, inverse = np.arange(first, last + 1, dtype=np.int64), hour - first
        else:
            hours, inverse = np.unique(hour, return_inverse=True)
        starts = pd.DatetimeIndex((hours * 3600).astype("datetime64[s]"))
        utc = starts.tz_localize(timezone, ambiguous=np.ones(len(hours), dtype=bool), nonexistent="shift_forward")
        offset = hours * 3600 - utc.as_unit("s").asi8
        out -= offset[inverse]
    out[nat] = np.nan
    return out


def _iso_times(values: pd.Series, empty: np.ndarray, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    aware = values.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False).to_numpy(dtype=bool)
    out = np.full(len(values), np.nan)
    if aware.any():
        t = pd.to_datetime(values[aware], format="ISO8601", utc=True, errors="coerce")
        out[aware] = t.to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
        out[aware & np.isnat(np.asarray(t.to_numpy(dtype="datetime64[ns]")))] = np.nan
    naive = ~aware & ~empty
    if naive.any():
        t = pd.to_datetime(values[naive], format="ISO8601", errors="coerce").to_numpy(dtype="datetime64[s]")
        out[naive] = _localize(t, timezone)
    return out, np.isnan(out) & ~empty


def parse_seconds(values: pd.Series, *, decimal: str = ".") -> tuple[np.ndarray, np.ndarray]:
    """``(seconds, bad)``: numbers (NaN when empty); a value given but not a number is bad. Also ``h:mm:ss`` /
    ``mm:ss`` (carriers' itemized files write durations so)."""
    empty = (values == "").fillna(True).to_numpy(dtype=bool)
    text = values if decimal == "." else values.str.replace(decimal, ".", regex=False)
    out = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    clock = np.isnan(out) & ~empty & text.str.contains(":", regex=False).fillna(False).to_numpy(dtype=bool)
    if clock.any():
        parts = text[clock].str.split(":", expand=True).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        weights = np.array([60.0 ** k for k in range(parts.shape[1] - 1, -1, -1)])
        out[clock] = np.where(np.isnan(parts).any(axis=1) & ~np.isnan(parts[:, -1]), np.nan, parts @ weights)
    return out, np.isnan(out) & ~empty


def parse_codes(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``(codes, bad)``: integers as Int64 (<NA> when empty); a value given but not an integer is bad."""
    empty = (values == "").fillna(True).to_numpy(dtype=bool)
    nums = pd.to_numeric(values.where(~empty), errors="coerce")
    whole = nums.notna() & (nums == nums.round())
    bad = ~whole.to_numpy(dtype=bool) & ~empty
    return nums.where(whole).astype("Int64"), bad


# --- quarantine -----------------------------------------------------------------------------------------------------
class RowChecks:
    """The first failing reason of each row, gathered column-wise; ``quarantine`` turns them into problems."""

    def __init__(self, n: int):
        self.reasons = np.full(n, None, dtype=object)

    def fail(self, mask: np.ndarray, reason: str | Callable[[np.ndarray], Iterable[str]]) -> None:
        """Rows in ``mask`` (not already failed) fail with ``reason`` (or ``reason(indexes)``, one per row)."""
        fresh = np.asarray(mask, dtype=bool) & (self.reasons == None)
        if not fresh.any():
            return
        where = np.flatnonzero(fresh)
        self.reasons[where] = reason if isinstance(reason, str) else list(reason(where))

    @property
    def ok(self) -> np.ndarray:
        return self.reasons == None

    def quarantine(self, rows: CsvRows) -> list[RowProblem]:
        bad = np.flatnonzero(~self.ok)
        return [RowProblem(rows.file, int(rows.rows[i]), str(self.reasons[i]), rows.raw(int(rows.rows[i])))
                for i in bad]


def bad_values(label: str, values: pd.Series) -> Callable[[np.ndarray], list[str]]:
    """A reason builder quoting each row's value: ``bad start 'yesterday'``."""
    return lambda where: [f"{label} {values.iloc[i]!r}" for i in where]


def assemble(columns: Mapping[str, object], *, ok: np.ndarray, extra: Mapping[str, str] | None = None
             ) -> pd.DataFrame:
    """The call frame of the rows in ``ok`` from full-length columns (pandas, numpy or pyarrow; CALL_COLUMNS, then
    ``extra`` {name: dtype})."""
    spec = CALL_COLUMNS | dict(extra or {})
    if not ok.any():
        return empty_calls(spec)
    keep = None if ok.all() else np.flatnonzero(ok)
    data = {}
    for name, dtype in spec.items():
        col = columns[name]
        if dtype == "string":
            arr = arrow(col)
            data[name] = strings(arr if keep is None else arr.take(pa.array(keep)))
        elif isinstance(col, pd.Series):
            data[name] = col.reset_index(drop=True) if keep is None else col.iloc[keep].reset_index(drop=True)
        else:
            values = arrow(col).to_numpy(zero_copy_only=False) if isinstance(col, (pa.Array, pa.ChunkedArray)) \
                else np.asarray(col)
            data[name] = values if keep is None else values[keep]
    return conform(pd.DataFrame(data), spec)


def sources_of(file: str, rows: np.ndarray) -> pa.Array:
    """The frame's ``source`` column: ``file:row``."""
    return pc.binary_join_element_wise(file + ":", pc.cast(pa.array(rows), pa.string()), "")


def directions_of(inbound: np.ndarray, outbound: np.ndarray) -> np.ndarray:
    """CallDirection values: inbound / outbound where flagged, internal otherwise."""
    return np.select([inbound, outbound], [CallDirection.INBOUND.value, CallDirection.OUTBOUND.value],
                     default=CallDirection.INTERNAL.value)
