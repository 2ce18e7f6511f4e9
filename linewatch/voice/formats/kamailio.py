"""Kamailio accounting CDRs: the dialog CDR lines the linewatch PBX writes (docs/voice-demo.md, docs/cdr.md).

Kamailio's acc module (``cdr_enable``, ``cdr_on_failed``) writes one CDR per dialog when it ends or fails; through
``db_flatstore`` a CDR is one line of ``|``-separated fields (a ``|`` inside a value is written ``%7C``), no
header, no quoting. The columns (:data:`COLUMNS`) are acc's own three — ``start_time`` and ``end_time`` (whole
epoch seconds) and ``duration`` (seconds with milliseconds, from the INVITE to the hang-up) — then the config's
``cdr_extra`` (collector/voice/pbx/kamailio.cfg): ``callid``, ``trunk`` (the dialog profile value: the carrier
trunk, empty for an internal call), ``direction`` (inbound, outbound, internal), ``caller``, ``callee``,
``extension`` (the company's own party: the caller, or for a call to one of the trunk's numbers the extension it
reaches — the number's last digits), ``sip_code`` and ``sip_reason`` (the final answer; 200 for an answered call), ``q850_cause`` (from the carrier's
``Reason: Q.850;cause=N`` header, 34 when the proxy refused the call because the trunk's channels were all
busy; 0 when none), ``invite_ts`` and ``answer_ts`` (epoch seconds with microseconds; ``answer_ts`` 0 when not
answered).

The frame: ``start_s`` = invite_ts (start_time when it is missing), ``end_s`` = start + duration, ``answer_s`` =
answer_ts; ``call_key`` from the Call-ID. Outcome by the shared table (formats/common.py): a 503 or 486 answered
on an outbound call comes from the carrier side (or the proxy's channel limit): blocked; a Q.850 congestion cause
(34 …) is blocked on any side; busy, no answer and failed otherwise. ``extension`` is the CDR's, else the caller
(the callee of an inbound call). Rows with a wrong column count, bad numbers, a negative duration, an answer outside the call, an
unknown direction or a trunk that maps to no voice line are quarantined with ``file:row: reason``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linewatch.choices import CallDirection
from linewatch.voice.formats import ParsedBatch
from linewatch.voice.formats.common import (
    RowChecks,
    assemble,
    bad_values,
    call_keys,
    outcomes,
    parse_codes,
    parse_seconds,
    read_csv_rows,
    row_keys,
)
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.mapping import TrunkMapper

COLUMNS = ("start_time", "end_time", "duration", "callid", "trunk", "direction", "caller", "callee", "extension",
           "sip_code", "sip_reason", "q850_cause", "invite_ts", "answer_ts")  # fmt: skip
DELIMITER = "|"
_NO_QUOTE = "\x01"  # flatstore never quotes: a character that is never in a CDR
_DIRECTIONS = frozenset(d.value for d in CallDirection)


def _unescape(values: pd.Series) -> pd.Series:
    """flatstore's ``%7C`` back to ``|`` (encode_delimiter)."""
    return values.str.replace("%7C", "|", regex=False)


def parse(data: bytes, source: CdrSource, *, mapper: TrunkMapper, layout: CsvLayout | None = None,
          first_row: int = 1, file: str) -> ParsedBatch:  # fmt: skip
    rows = read_csv_rows(data, file=file, first_row=first_row, delimiter=DELIMITER, quote=_NO_QUOTE,
                         columns=len(COLUMNS))  # fmt: skip
    col = {name: rows.column(i) for i, name in enumerate(COLUMNS)}
    checks = RowChecks(rows.table.num_rows)
    start_written, bad = parse_seconds(col["start_time"])
    checks.fail(bad | np.isnan(start_written), bad_values("bad start_time", col["start_time"]))
    invite, bad = parse_seconds(col["invite_ts"])
    checks.fail(bad, bad_values("bad invite_ts", col["invite_ts"]))
    duration_s, bad = parse_seconds(col["duration"])
    checks.fail(bad | np.isnan(duration_s), bad_values("bad duration", col["duration"]))
    checks.fail(duration_s < 0, bad_values("negative duration", col["duration"]))
    answer_ts, bad = parse_seconds(col["answer_ts"])
    checks.fail(bad, bad_values("bad answer_ts", col["answer_ts"]))
    sip_code, bad = parse_codes(col["sip_code"])
    checks.fail(bad, bad_values("bad sip_code", col["sip_code"]))
    q850, bad = parse_codes(col["q850_cause"])
    checks.fail(bad, bad_values("bad q850_cause", col["q850_cause"]))
    sip_code = sip_code.mask(sip_code.eq(0))  # 0: no final answer recorded
    q850 = q850.mask(q850.eq(0))  # 0: no Reason header (Q.850 causes start at 1)

    start_s = np.where(np.isnan(invite) | (invite <= 0), start_written, invite)
    end_s = start_s + duration_s
    answered = (sip_code.ge(200) & sip_code.lt(300)).fillna(False).to_numpy(dtype=bool) & (answer_ts > 0)
    answer_s = np.where(answered, answer_ts, np.nan)
    checks.fail(answered & ((answer_s < start_s - 1.0) | (answer_s > end_s + 1.0)), lambda where: [
        f"answer_ts {col['answer_ts'].iloc[i]} outside the call ({start_s[i]:.3f} .. {end_s[i]:.3f})"
        for i in where])  # fmt: skip

    direction = col["direction"].str.strip().str.lower()
    checks.fail(~direction.isin(_DIRECTIONS).to_numpy(dtype=bool),
                bad_values("unknown direction (inbound, outbound, internal)", col["direction"]))  # fmt: skip
    internal = direction.eq(CallDirection.INTERNAL.value).to_numpy(dtype=bool)
    inbound = direction.eq(CallDirection.INBOUND.value).to_numpy(dtype=bool)
    outbound = direction.eq(CallDirection.OUTBOUND.value).to_numpy(dtype=bool)
    trunk = col["trunk"].str.strip()
    checks.fail((inbound | outbound) & trunk.eq("").to_numpy(dtype=bool), "no trunk on an inbound/outbound call")
    line = mapper.line_of(trunk.where(~internal, ""))
    checks.fail((inbound | outbound) & line.isna().to_numpy(dtype=bool),
                lambda where: [mapper.unknown_reason("trunk", trunk.iloc[i]) for i in where])  # fmt: skip

    ids = col["callid"]
    keys = call_keys(source.name, ids)
    no_id = ids.eq("").to_numpy(dtype=bool)
    if no_id.any():
        keys[no_id] = row_keys(source.name, [rows.raw(int(r)) for r in rows.rows[no_id]]).to_numpy()
    caller, callee = _unescape(col["caller"]), _unescape(col["callee"])
    calls = assemble({
        "call_key": keys,
        "source": file + ":" + pd.Series(rows.rows, dtype="int64").astype("string"),
        "trunk": trunk.where(~internal, ""),
        "line": line,
        "start_s": start_s,
        "answer_s": answer_s,
        "end_s": end_s,
        "duration_s": duration_s,
        "billsec_s": np.where(answered, np.maximum(end_s - answer_s, 0.0), 0.0),
        "caller": caller,
        "callee": callee,
        "extension": col["extension"].where(col["extension"].ne(""), pd.Series(
            np.where(inbound, callee.to_numpy(dtype=object), caller.to_numpy(dtype=object)), dtype="string")),
        "direction": direction,
        "outcome": outcomes(answered=answered, sip_code=sip_code, q850_cause=q850, carrier_side=outbound),
        "sip_code": sip_code,
        "q850_cause": q850,
    }, ok=checks.ok)  # fmt: skip
    return ParsedBatch(calls, rows.problems + checks.quarantine(rows), rows.lines)
