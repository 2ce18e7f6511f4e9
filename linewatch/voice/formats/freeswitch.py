"""FreeSWITCH ``mod_cdr_csv``, the **default** template (docs/cdr.md).

The default template (``cdr_csv.conf.xml``, ``<template name="default">``) writes 15 quoted columns without a
header: caller_id_name, caller_id_number, destination_number, context, start_stamp, answer_stamp, end_stamp,
duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec. Stamps are
``%Y-%m-%d %H:%M:%S`` in the switch's local zone (the source's ``timezone``); an unanswered call has an empty
answer_stamp.

Sides: the template names no gateway, so the trunk is the ``accountcode`` (set it per gateway, e.g.
``<variable name="accountcode" value="dtag"/>``) or else the ``context`` when one of them matches a voice.yaml
``trunks`` glob. With a trunk, the call is outbound when its caller is an extension (the source's ``extensions``
pattern) and inbound otherwise; without one it is internal when both parties are extensions, else an unknown trunk
(quarantined). Outcome: answered when answer_stamp is set, else from the hangup cause (its Q.850 code, see
``common.FREESWITCH_Q850``; a busy or congestion cause from the carrier side of an outbound call is blocked).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linewatch.voice.formats import ParsedBatch
from linewatch.voice.formats.asterisk import matches
from linewatch.voice.formats.common import (
    FREESWITCH_OUTCOMES,
    FREESWITCH_Q850,
    RowChecks,
    assemble,
    bad_values,
    call_keys,
    directions_of,
    is_empty,
    map_values,
    outcomes,
    read_csv_rows,
    row_keys,
    seconds_of,
    sources_of,
    times_of,
)
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.mapping import TrunkMapper

COLUMNS = ("caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp", "answer_stamp",
           "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode", "read_codec",
           "write_codec")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_TYPES = {7: pa.int64(), 8: pa.int64()}


def parse(data: bytes, source: CdrSource, *, mapper: TrunkMapper, layout: CsvLayout | None = None,
          first_row: int = 1, file: str) -> ParsedBatch:
    rows = read_csv_rows(data, file=file, first_row=first_row, columns=len(COLUMNS), types=_TYPES)
    col = {name: rows.table.column(i) for i, name in enumerate(COLUMNS)}
    n = rows.table.num_rows
    checks = RowChecks(n)

    def quote(name: str, label: str):
        return lambda where: bad_values(label, rows.column(COLUMNS.index(name)))(where)

    times = {}
    for name in ("start_stamp", "end_stamp", "answer_stamp"):
        times[name], bad = times_of(col[name], fmt=TIME_FORMAT, timezone=source.timezone, strict=True)
        if name != "answer_stamp":
            checks.fail(is_empty(col[name]), f"no {name}")
        checks.fail(bad, quote(name, f"bad {name}"))
    start_s, end_s, answer_s = times["start_stamp"], times["end_stamp"], times["answer_stamp"]
    secs = {}
    for name in ("duration", "billsec"):
        secs[name], bad = seconds_of(col[name])
        checks.fail(bad | np.isnan(secs[name]), quote(name, f"bad {name}"))
        checks.fail(secs[name] < 0, quote(name, f"negative {name}"))
    checks.fail(end_s < start_s, lambda where: [
        f"end_stamp {rows.column(6).iloc[i]!r} before start_stamp {rows.column(4).iloc[i]!r}" for i in where])
    checks.fail(answer_s < start_s, lambda where: [
        f"answer_stamp {rows.column(5).iloc[i]!r} before start_stamp {rows.column(4).iloc[i]!r}" for i in where])

    account, context = col["accountcode"], col["context"]
    by_account = mapper.is_trunk(account)
    by_context = ~by_account & mapper.is_trunk(context)
    trunk = pc.if_else(pa.array(by_account), account, pc.if_else(pa.array(by_context), context, ""))
    has_trunk = by_account | by_context
    caller_ext = matches(col["caller_id_number"], source.extensions)
    callee_ext = matches(col["destination_number"], source.extensions)
    outbound = has_trunk & caller_ext
    inbound = has_trunk & ~caller_ext
    internal = ~has_trunk & caller_ext & callee_ext
    checks.fail(~has_trunk & ~internal, lambda where: [
        f"unknown trunk: accountcode {account[i].as_py()!r} and context {context[i].as_py()!r} match no voice.yaml "
        f"trunks entry, and {col['caller_id_number'][i].as_py()!r} → {col['destination_number'][i].as_py()!r} is "
        f"not extension to extension (source {source.name!r})" for i in where])
    line = mapper.line_of(trunk)
    checks.fail(has_trunk & line.isna().to_numpy(dtype=bool), lambda where: [
        mapper.unknown_reason("accountcode" if by_account[i] else "context", trunk[i].as_py()) for i in where])

    cause = map_values(col["hangup_cause"], {k: str(v) for k, v in FREESWITCH_Q850.items()})
    q850 = cause.astype("Int64")
    answered = ~is_empty(col["answer_stamp"])
    outcome = outcomes(answered=answered, q850_cause=q850, carrier_side=outbound,
                       fallback=map_values(col["hangup_cause"], {k: v.value for k, v in FREESWITCH_OUTCOMES.items()}))
    ids = col["uuid"]
    keys = call_keys(source.name, ids)
    no_id = is_empty(ids)
    if no_id.any():
        keys[no_id] = row_keys(source.name, [rows.raw(int(r)) for r in rows.rows[no_id]]).to_numpy()
    calls = assemble({
        "call_key": keys,
        "source": sources_of(file, rows.rows),
        "trunk": trunk,
        "line": line,
        "start_s": start_s,
        "answer_s": np.where(answered, answer_s, np.nan),
        "end_s": end_s,
        "duration_s": end_s - start_s,
        "billsec_s": np.where(answered, secs["billsec"], 0.0),
        "caller": col["caller_id_number"],
        "callee": col["destination_number"],
        "extension": pc.if_else(pa.array(inbound), col["destination_number"], col["caller_id_number"]),
        "direction": directions_of(inbound, outbound),
        "outcome": outcome,
        "sip_code": np.full(n, np.nan),
        "q850_cause": q850,
    }, ok=checks.ok)
    return ParsedBatch(calls, rows.problems + checks.quarantine(rows), rows.lines)
