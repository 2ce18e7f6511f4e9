"""Asterisk ``cdr_csv`` (Master.csv): the documented column order (docs/cdr.md).

cdr_csv writes, without a header line, 16 columns — accountcode, src, dst, dcontext, clid, channel, dstchannel,
lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags — then ``uniqueid`` when cdr.conf
``[csv] loguniqueid=yes`` and ``userfield`` when ``loguserfield=yes`` (17 columns are read as uniqueid). Times are
``%Y-%m-%d %H:%M:%S`` in the PBX's local zone (the source's ``timezone``; UTC with ``usegmtime=yes``), an
unanswered call has an empty answer time.

Sides: the ``channel`` (the calling leg) or ``dstchannel`` (the called leg) that matches a voice.yaml ``trunks`` glob
is the trunk — channel → inbound, dstchannel → outbound. A call is internal when neither is a trunk and the
channel's peer name (``PJSIP/3101-0000001a`` → ``3101``) matches the source's ``extensions`` pattern; anything else
is an unknown trunk (quarantined). ``duration`` and ``billsec`` are the PBX's own seconds: the frame's end is
``start + duration`` and its answer ``end - billsec`` (so an hour repeated at the end of summer time cannot make a
call negative); the written end and answer are still checked.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linewatch.choices import CallOutcome
from linewatch.voice.formats import ParsedBatch
from linewatch.voice.formats.common import (
    ASTERISK_DISPOSITIONS,
    RowChecks,
    arrow,
    assemble,
    bad_values,
    call_keys,
    directions_of,
    is_empty,
    map_values,
    read_csv_rows,
    row_keys,
    seconds_of,
    sources_of,
    times_of,
)
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.mapping import TrunkMapper

COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata", "start",
           "answer", "end", "duration", "billsec", "disposition", "amaflags")
OPTIONAL_COLUMNS = ("uniqueid", "userfield")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_PEER = r"^[^/]*/(.*?)(?:-[0-9a-fA-F]{6,})?(?:;[0-9]+)?$"  # PJSIP/3101-0000001a, Local/3101@ctx-00ab;1 -> the peer


def peer_names(channels: object) -> pa.Array:
    """The endpoint of each channel name: ``PJSIP/3101-0000001a`` → ``3101`` (``Local/3101@from-internal`` →
    ``3101@from-internal``; "" stays "")."""
    return pc.replace_substring_regex(arrow(channels), _PEER, r"\1")


def matches(values: object, pattern: str) -> np.ndarray:
    """``values`` matching a regular expression (RE2 in pyarrow, Python ``re`` where RE2 refuses it)."""
    arr = arrow(values)
    try:
        return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        compiled = re.compile(pattern)
        return np.array([bool(compiled.search(v)) for v in arr.to_pylist()], dtype=bool)


_TYPES = {12: pa.int64(), 13: pa.int64()}
_USED = (1, 2, 5, 6, 9, 10, 11, 12, 13, 14, 16)  # src dst channel dstchannel start answer end duration billsec
# disposition uniqueid: the others (clid, lastdata, ...) are only counted  # times as strings: checked strictly (strptime takes Nov 31)


def parse(data: bytes, source: CdrSource, *, mapper: TrunkMapper, layout: CsvLayout | None = None,
          first_row: int = 1, file: str) -> ParsedBatch:
    rows = read_csv_rows(data, file=file, first_row=first_row, columns=(16, 17, 18), types=_TYPES, include=_USED)
    names = (COLUMNS + OPTIONAL_COLUMNS)[:rows.width]
    col = {name: rows.arrow(i) for i, name in enumerate(names) if i in _USED}
    n = rows.table.num_rows
    checks = RowChecks(n)

    def quote(name: str):
        return lambda label: lambda where: bad_values(label, rows.column(names.index(name)))(where)

    times = {}
    for name in ("start", "end", "answer"):
        times[name], bad = times_of(col[name], fmt=TIME_FORMAT, timezone=source.timezone, strict=True)
        if name != "answer":
            checks.fail(is_empty(col[name]), f"no {name} time")
        if bad.any():
            checks.fail(bad, quote(name)(f"bad {name} time"))
    start_s, end_written = times["start"], times["end"]
    secs = {}
    for name in ("duration", "billsec"):
        secs[name], bad = seconds_of(col[name])
        checks.fail(bad | np.isnan(secs[name]) | (secs[name] != np.round(secs[name])), quote(name)(f"bad {name}"))
    duration_s, billsec_s = secs["duration"], secs["billsec"]
    checks.fail(duration_s < 0, quote("duration")("negative duration"))
    checks.fail(billsec_s < 0, quote("billsec")("negative billsec"))
    checks.fail(end_written < start_s, lambda where: [
        f"end {rows.column(11).iloc[i]!r} before start {rows.column(9).iloc[i]!r}" for i in where])
    checks.fail(billsec_s > duration_s, lambda where: [
        f"billsec {billsec_s[i]:.0f} > duration {duration_s[i]:.0f}" for i in where])

    verdict = map_values(col["disposition"], ASTERISK_DISPOSITIONS)
    checks.fail(verdict.isna().to_numpy(dtype=bool), quote("disposition")("unknown disposition"))

    channel, dstchannel = col["channel"], col["dstchannel"]
    inbound = mapper.is_trunk(channel)
    outbound = ~inbound & mapper.is_trunk(dstchannel)
    other = np.flatnonzero(~inbound & ~outbound)  # internal, or an unknown trunk: checked on these rows only
    internal = np.zeros(n, dtype=bool)
    if len(other):
        take = pa.array(other)
        o_chan, o_dst = channel.take(take), dstchannel.take(take)
        chan_ext = matches(peer_names(o_chan), source.extensions)
        dst_ext = (is_empty(o_dst) & matches(col["dst"].take(take), source.extensions)) | matches(
            peer_names(o_dst), source.extensions)
        internal[other] = chan_ext & dst_ext
        ext_of = dict(zip(other.tolist(), chan_ext.tolist(), strict=True))

        def unknown(where: np.ndarray) -> list[str]:
            out = []
            for i in where.tolist():
                chan, dst = channel[i].as_py(), dstchannel[i].as_py()
                if not ext_of[i]:
                    out.append(mapper.unknown_reason("channel", chan))
                elif dst:
                    out.append(mapper.unknown_reason("dstchannel", dst))
                else:
                    out.append(f"unknown trunk: no dstchannel and dst {col['dst'][i].as_py()!r} is not an extension "
                               f"(source {source.name!r} extensions {source.extensions!r})")
            return out

        checks.fail(~inbound & ~outbound & ~internal, unknown)
    a_in = pa.array(inbound)
    trunk = pc.if_else(a_in, channel, pc.if_else(pa.array(outbound), dstchannel, ""))
    line = mapper.line_of(trunk)
    checks.fail((inbound | outbound) & line.isna().to_numpy(dtype=bool), lambda where: [
        mapper.unknown_reason("channel" if inbound[i] else "dstchannel", trunk[i].as_py()) for i in where])

    answered = verdict.eq(CallOutcome.ANSWERED.value).fillna(False).to_numpy(dtype=bool)
    carrier_busy = outbound & verdict.eq(CallOutcome.BUSY.value).fillna(False).to_numpy(dtype=bool)
    outcome = verdict.where(~carrier_busy, CallOutcome.BLOCKED.value)
    end_s = start_s + duration_s
    answer_s = np.where(answered, end_s - billsec_s, np.nan)
    direction = directions_of(inbound, outbound)
    if "uniqueid" in col:
        ids = col["uniqueid"]
        keys = call_keys(source.name, ids)
        no_id = is_empty(ids)
        if no_id.any():
            keys[no_id] = row_keys(source.name, [rows.raw(int(r)) for r in rows.rows[no_id]]).to_numpy()
    else:
        keys = row_keys(source.name, [rows.raw(int(r)) for r in rows.rows])
    calls = assemble({
        "call_key": keys,
        "source": sources_of(file, rows.rows),
        "trunk": trunk,
        "line": line,
        "start_s": start_s,
        "answer_s": answer_s,
        "end_s": end_s,
        "duration_s": duration_s,
        "billsec_s": np.where(answered, billsec_s, 0.0),
        "caller": col["src"],
        "callee": col["dst"],
        "extension": pc.if_else(a_in, col["dst"], col["src"]),
        "direction": direction,
        "outcome": outcome,
        "sip_code": pd.Series(pd.NA, index=range(n), dtype="Int64"),
        "q850_cause": pd.Series(pd.NA, index=range(n), dtype="Int64"),
    }, ok=checks.ok)
    return ParsedBatch(calls, rows.problems + checks.quarantine(rows), rows.lines)
