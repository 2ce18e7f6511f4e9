"""A configurable CSV layout (voice.yaml ``layouts``, docs/cdr.md): CDRs of other systems, and carriers' itemized
call records.

The layout names the column of each field (``columns``: a header name, a 0-based index, or a list joined with a
space, e.g. a date and a time column). Rules:

- ``start`` and ``callee`` are required, and ``end`` or ``duration_s``; the missing one of them is derived.
- Answered: from ``disposition`` (the layout's ``outcomes``), else an ``answer`` time, else ``billsec_s`` > 0, else
  ``duration_s`` > 0 (an itemized record is a billed call). Talk time: ``billsec_s``, else end − answer, else the
  duration of an answered call.
- Trunk: the ``trunk`` column (or the layout's constant ``trunk``) mapped by voice.yaml ``trunks``; a ``line``
  column names an inventory voice line directly. A row without any trunk is internal.
- Direction: the ``direction`` column (the layout's ``directions``, or the CallDirection values themselves), else
  ``default_direction``. Extension: the ``extension`` column, else the caller of an outbound (or internal) call and
  the callee of an inbound one.
- Outcome: ``disposition`` mapped by ``outcomes`` (a value not listed is quarantined), else from ``sip_code`` /
  ``q850_cause`` (common.outcomes; a 503/486 on an outbound call is the carrier's: blocked), else answered/failed.
- Itemized extras: ``billed_s``, ``amount``, ``billed_class`` become the frame columns ``carrier_billed_s``,
  ``carrier_amount`` (float, the layout's ``decimal`` mark) and ``carrier_class`` after the CALL_COLUMNS.

A tailed headered file: chunks after the first have no header line; the parser reads the header from the file
itself (``file``) unless the layout gives ``column_names``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linewatch.choices import CallDirection, CallOutcome
from linewatch.voice.formats import ParsedBatch
from linewatch.voice.formats.common import (
    CsvRows,
    RowChecks,
    assemble,
    bad_values,
    call_keys,
    is_empty,
    map_values,
    outcomes,
    parse_codes,
    parse_seconds,
    parse_times,
    read_csv_rows,
    row_keys,
    sources_of,
    strings,
)
from linewatch.voice.formats.config import CdrSource, ColumnRef, CsvLayout
from linewatch.voice.mapping import TrunkMapper

EXTRA_COLUMNS = {"carrier_billed_s": "float64", "carrier_amount": "float64", "carrier_class": "string"}
_EXTRA_FIELDS = {"billed_s": "carrier_billed_s", "amount": "carrier_amount", "billed_class": "carrier_class"}


def _header_of(file: str, layout: CsvLayout) -> list[str] | None:
    """The header line of ``file`` (for a chunk that does not start at row 1)."""
    path = Path(file)
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        first = fh.readline().decode(layout.encoding, "replace").rstrip("\r\n")
    return next(csv.reader([first], delimiter=layout.delimiter, quotechar=layout.quote), None)


class _Columns:
    """The layout's column references resolved against the chunk."""

    def __init__(self, rows: CsvRows, names: list[str] | None):
        self.rows = rows
        self.names = names

    def index(self, ref: str | int) -> int:
        if isinstance(ref, int):
            if ref >= self.rows.table.num_columns:
                raise ValueError(f"column {ref} does not exist (the file has {self.rows.table.num_columns} columns)")
            return ref
        if not self.names or ref not in self.names:
            raise ValueError(f"column {ref!r} is not in the file's header ({', '.join(self.names or [])})")
        return self.names.index(ref)

    def get(self, ref: ColumnRef) -> pd.Series:
        parts = ref if isinstance(ref, list) else [ref]
        cols = [self.rows.column(self.index(p)) for p in parts]
        if len(cols) == 1:
            return cols[0]
        joined = pc.binary_join_element_wise(*[pa.array(c, type=pa.string()) for c in cols], " ")
        return strings(pc.utf8_trim_whitespace(joined))


def _everywhere(n: int, reason: str, rows: CsvRows) -> ParsedBatch:
    checks = RowChecks(n)
    checks.fail(np.ones(n, dtype=bool), reason)
    from linewatch.voice.frame import CALL_COLUMNS, empty_calls

    return ParsedBatch(empty_calls(CALL_COLUMNS), rows.problems + checks.quarantine(rows), rows.lines)


def parse(data: bytes, source: CdrSource, *, mapper: TrunkMapper, layout: CsvLayout | None = None,
          first_row: int = 1, file: str) -> ParsedBatch:
    if layout is None:
        raise ValueError(f"source {source.name!r}: format csv needs its layout")
    names = layout.column_names
    if names is None and layout.header and first_row > 1:
        names = _header_of(file, layout)
    rows = read_csv_rows(data, file=file, first_row=first_row, delimiter=layout.delimiter, quote=layout.quote,
                         encoding=layout.encoding, header=layout.header and first_row == 1,
                         column_names=names if names is not None and not (layout.header and first_row == 1)
                         else None)
    if names is None and layout.header and first_row == 1:
        names = list(rows.table.column_names)
    n = rows.table.num_rows
    cols = _Columns(rows, names)
    mapped = layout.columns.mapped()
    try:
        col = {field: cols.get(ref) for field, ref in mapped.items()}
    except ValueError as exc:
        return _everywhere(n, f"layout {layout.name!r}: {exc}", rows)
    checks = RowChecks(n)
    zone = layout.timezone or source.timezone

    def time_field(name: str) -> np.ndarray:
        values, bad = parse_times(col[name], fmt=layout.time_format, timezone=zone)
        checks.fail(bad, bad_values(f"bad {name} time", col[name]))
        return values

    def seconds_field(name: str) -> np.ndarray:
        values, bad = parse_seconds(col[name], decimal=layout.decimal)
        checks.fail(bad, bad_values(f"bad {name}", col[name]))
        checks.fail(values < 0, bad_values(f"negative {name}", col[name]))
        return values

    start_s = time_field("start")
    checks.fail(is_empty(col["start"]), "no start time")
    answer_s = time_field("answer") if "answer" in col else np.full(n, np.nan)
    duration_col = seconds_field("duration_s") if "duration_s" in col else None
    if "end" in col:
        end_s = time_field("end")
        if duration_col is not None:
            end_s = np.where(np.isnan(end_s), start_s + duration_col, end_s)
    else:
        assert duration_col is not None  # the layout model requires end or duration_s
        end_s = start_s + duration_col
    checks.fail(np.isnan(end_s) & ~np.isnan(start_s), "no end time nor duration_s")
    checks.fail(end_s < start_s, "end before start")
    checks.fail(answer_s < start_s, "answer before start")
    billsec_col = seconds_field("billsec_s") if "billsec_s" in col else None

    verdict = None
    if "disposition" in col:
        verdict = map_values(col["disposition"], {k: v.value for k, v in layout.outcomes.items()})
        checks.fail(verdict.isna().to_numpy(dtype=bool) & ~is_empty(col["disposition"]),
                    bad_values(f"disposition not in layout {layout.name!r} outcomes", col["disposition"]))
    if verdict is not None:
        answered = verdict.eq(CallOutcome.ANSWERED.value).fillna(False).to_numpy(dtype=bool)
    elif "answer" in col:
        answered = ~np.isnan(answer_s)
    elif billsec_col is not None:
        answered = np.nan_to_num(billsec_col) > 0
    else:
        answered = (end_s - start_s) > 0
    if billsec_col is not None:
        billsec_s = np.nan_to_num(billsec_col)
    else:
        billsec_s = np.where(~np.isnan(answer_s), end_s - answer_s, end_s - start_s)
    billsec_s = np.where(answered, billsec_s, 0.0)
    checks.fail(billsec_s > end_s - start_s + 1, "talk time longer than the call")

    if "direction" in col:
        table = {d.value: d.value for d in CallDirection} | {k: v.value for k, v in layout.directions.items()}
        direction = map_values(col["direction"], table)
        checks.fail(direction.isna().to_numpy(dtype=bool), bad_values("unknown direction", col["direction"]))
        direction = direction.fillna(layout.default_direction.value)
    else:
        direction = pd.Series(np.full(n, layout.default_direction.value, dtype=object), dtype="string")
    if "trunk" in col:
        trunk = col["trunk"]
    else:
        trunk = strings(pa.array(np.full(n, layout.trunk or "", dtype=object), type=pa.string()))
    no_trunk = is_empty(trunk)
    if "line" in col:
        named = col["line"]
        line = named.where(named.isin(list(mapper.lines)), pd.NA).astype("string")
        checks.fail(line.isna().to_numpy(dtype=bool) & ~is_empty(named), lambda where: [
            f"line {named.iloc[i]!r} is not a voice trunk of the inventory" for i in where])
        line = line.fillna(mapper.line_of(trunk))
    else:
        line = mapper.line_of(trunk)
    has_line = ~line.isna().to_numpy(dtype=bool)
    direction = direction.where(has_line | ~no_trunk, CallDirection.INTERNAL.value)
    dir_np = direction.to_numpy(dtype=object)
    checks.fail(~no_trunk & ~has_line, lambda where: [mapper.unknown_reason("trunk", trunk.iloc[i]) for i in where])
    checks.fail(no_trunk & ~has_line & (dir_np != CallDirection.INTERNAL.value),
                lambda where: [f"no trunk for an {dir_np[i]} call" for i in where])

    sip = q850 = None
    if "sip_code" in col:
        sip, bad = parse_codes(col["sip_code"])
        checks.fail(bad, bad_values("bad sip_code", col["sip_code"]))
    if "q850_cause" in col:
        q850, bad = parse_codes(col["q850_cause"])
        checks.fail(bad, bad_values("bad q850_cause", col["q850_cause"]))
    outcome = outcomes(answered=answered, sip_code=sip, q850_cause=q850,
                       carrier_side=dir_np == CallDirection.OUTBOUND.value, fallback=verdict)

    callee = col["callee"]
    caller = col.get("caller", strings(pa.array(np.full(n, "", dtype=object), type=pa.string())))
    if "extension" in col:
        extension = col["extension"]
    else:
        extension = strings(pc.if_else(pa.array(dir_np == CallDirection.INBOUND.value),
                                       pa.array(callee, type=pa.string()), pa.array(caller, type=pa.string())))
    if "call_id" in col:
        keys = call_keys(source.name, col["call_id"])
        no_id = is_empty(col["call_id"])
    else:
        keys = strings(pa.array(np.full(n, "", dtype=object), type=pa.string()))
        no_id = np.ones(n, dtype=bool)
    if no_id.any():
        keys = keys.copy()
        keys[no_id] = row_keys(source.name, [rows.raw(int(r)) for r in rows.rows[no_id]]).to_numpy()
    columns: dict[str, object] = {
        "call_key": keys,
        "source": sources_of(file, rows.rows),
        "trunk": trunk,
        "line": line,
        "start_s": start_s,
        "answer_s": np.where(answered, np.where(np.isnan(answer_s), end_s - billsec_s, answer_s), np.nan),
        "end_s": end_s,
        "duration_s": end_s - start_s,
        "billsec_s": billsec_s,
        "caller": caller,
        "callee": callee,
        "extension": extension,
        "direction": direction,
        "outcome": outcome,
        "sip_code": sip if sip is not None else np.full(n, np.nan),
        "q850_cause": q850 if q850 is not None else np.full(n, np.nan),
    }
    extra = {}
    for field, name in _EXTRA_FIELDS.items():
        if field not in col:
            continue
        extra[name] = EXTRA_COLUMNS[name]
        if field == "billed_class":
            columns[name] = col[field]
        else:
            columns[name] = seconds_field(field) if field == "billed_s" else _amounts(col[field], layout, checks)
    calls = assemble(columns, ok=checks.ok, extra=extra)
    return ParsedBatch(calls, rows.problems + checks.quarantine(rows), rows.lines)


def _amounts(values: pd.Series, layout: CsvLayout, checks: RowChecks) -> np.ndarray:
    """Money as written (``0,40`` with a decimal comma; a currency sign or spaces around are ignored)."""
    text = values.str.replace(r"[^\d,.\-]", "", regex=True)
    if layout.decimal != ".":
        text = text.str.replace(".", "", regex=False).str.replace(layout.decimal, ".", regex=False)
    out = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    checks.fail(np.isnan(out) & ~is_empty(values), bad_values("bad amount", values))
    return out
