"""The modelled month (docs/cdr.md): realistic Asterisk ``cdr_csv`` rows for the demo's backfill and the benchmark.

For each voice trunk of the inventory: Poisson call arrivals whose rate follows a working-day profile (a morning busy
hour around 10:00, a lunch dip, an afternoon peak; weekends at a tenth), exponential talk times, a mix of inbound,
outbound and internal calls and of destinations (local, national, mobile, international, a few premium, toll-free
and emergency numbers; E.164-correct for +49 and +33), and the trunk's channel limit enforced call by call (an
outbound attempt finding every contracted channel busy is rejected by the carrier: ``CONGESTION``; an inbound one
never reaches the PBX). The night before ``end_s``, at 03:00 Europe/Berlin, a burst of ~40 international calls to
high-risk destinations leaves the Frankfurt trunk from one extension (toll fraud).

Rows are written in the order Asterisk writes them (at each call's end), 18 columns (loguniqueid and loguserfield
on), local times of Europe/Berlin. Column-wise throughout except the channel-occupancy check, a heap walk over the
calls of a trunk with a channel limit (it is sequential by nature); a million rows take a few seconds.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linewatch.choices import LineType
from linewatch.inventory import Inventory, Line

PBX_TIMEZONE = "Europe/Berlin"
# Fraction of the busy hour's arrival rate per local hour of a working day.
HOUR_PROFILE = np.array([0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.5, 0.85, 1.0, 0.95,
                         0.6, 0.65, 0.9, 0.85, 0.7, 0.45, 0.2, 0.1, 0.06, 0.04, 0.02, 0.01])
WEEKEND_FACTOR = 0.08
MEAN_HOLD_S = 170.0  # mean channel holding time of an attempt (ringing + talk), for the arrival rate
MEAN_TALK_S = 165.0
INBOUND_SHARE = 0.45
INTERNAL_SHARE = 0.12  # internal calls per trunk call (they take no trunk channel)
FRAUD_CALLS = 40
FRAUD_PREFIXES = ("882", "53", "252", "232", "675", "247", "881")


@dataclass(frozen=True)
class TrunkProfile:
    """How one trunk's traffic is modelled."""

    peer: str  # the Asterisk endpoint of the carrier: channels PJSIP/<peer>-<8 hex>
    country_code: str
    area: str  # the site's area code (national number without the trunk prefix)
    extensions: tuple[int, int]  # first, last extension number
    busy_hour_erl: float  # offered traffic in the busy hour of a working day
    fraud: bool = False  # target of the toll-fraud burst


PROFILES: dict[str, TrunkProfile] = {
    "FRA-VOICE-1": TrunkProfile("dtag", "49", "69", (3100, 3199), 12.0, fraud=True),
    "PAR-VOICE-1": TrunkProfile("obs", "33", "1", (4100, 4139), 9.0),
}
_SITE_COUNTRY = {"Frankfurt": ("49", "69"), "Paris": ("33", "1"), "Berlin": ("49", "30"), "Munich": ("49", "89")}


def profile_of(line: Line, k: int) -> TrunkProfile:
    """The demo profile of a voice line, or a default one (the k-th other trunk: its own extension range)."""
    if line.id in PROFILES:
        return PROFILES[line.id]
    cc, area = _SITE_COUNTRY.get(line.site, ("49", "69"))
    peer = "".join(c if c.isalnum() else "-" for c in line.id.lower())
    first = 5000 + 100 * k
    return TrunkProfile(peer, cc, area, (first, first + 99), 0.4 * (line.channels or 8))


# Destinations: (class, share of outbound calls). National number plans per country: (prefix, digits after it).
DEST_SHARES = {"local": 0.34, "national": 0.24, "mobile": 0.30, "international": 0.09, "toll_free": 0.017,
               "premium": 0.002, "emergency": 0.001}
PLANS = {
    "49": {"national": [("30", 8), ("40", 8), ("89", 8), ("221", 7), ("211", 7), ("711", 7), ("341", 7)],
           "mobile": [("151", 8), ("160", 7), ("170", 7), ("171", 8), ("172", 8), ("176", 8), ("179", 8)],
           "toll_free": [("800", 7)], "premium": [("9001", 6), ("9005", 6)], "emergency": ["112", "110"],
           "local_digits": 8},
    "33": {"national": [("2", 8), ("3", 8), ("4", 8), ("5", 8)], "mobile": [("6", 8), ("7", 8)],
           "toll_free": [("800", 6)], "premium": [("899", 6), ("897", 6)], "emergency": ["112", "15", "17", "18"],
           "local_digits": 8},
}
ABROAD = [("44", "20", 8), ("33", "1", 8), ("49", "69", 8), ("1", "212", 7), ("31", "20", 7), ("43", "1", 7),
          ("41", "44", 7), ("48", "22", 7), ("34", "91", 7)]


def _random_nsn(rng: np.random.Generator, n: int, plan: list[tuple[str, int]]) -> np.ndarray:
    """n national significant numbers (int64) from a list of (prefix, digits after it)."""
    out = np.zeros(n, dtype=np.int64)
    which = rng.integers(0, len(plan), size=n)
    for k, (prefix, width) in enumerate(plan):
        sel = which == k
        out[sel] = int(prefix) * 10 ** width + rng.integers(10 ** (width - 1), 10 ** width, size=int(sel.sum()))
    return out


def _numbers(prefix: np.ndarray, digits: np.ndarray) -> pa.Array:
    """Number strings: a dial prefix ("0", "00", "+49", "") and the digits."""
    return pc.binary_join_element_wise(pa.array(prefix, type=pa.string()), pc.cast(pa.array(digits), pa.string()),
                                       "")


def outbound_numbers(rng: np.random.Generator, n: int, prof: TrunkProfile) -> tuple[pa.Array, np.ndarray]:
    """(dialled numbers as an extension dials them, destination class) of ``n`` outbound calls."""
    plan = PLANS.get(prof.country_code, PLANS["49"])
    classes = np.array(list(DEST_SHARES))
    shares = np.array(list(DEST_SHARES.values()))
    cls = rng.choice(classes, size=n, p=shares / shares.sum())
    digits = np.zeros(n, dtype=np.int64)
    prefix = np.full(n, "0", dtype=object)
    sel = cls == "local"
    digits[sel] = _random_nsn(rng, int(sel.sum()), [(prof.area, plan["local_digits"] - len(prof.area) + 1)])
    for name in ("national", "mobile", "toll_free", "premium"):
        sel = cls == name
        digits[sel] = _random_nsn(rng, int(sel.sum()), plan[name])
    sel = cls == "emergency"
    digits[sel] = rng.choice(np.array(plan["emergency"], dtype=np.int64), size=int(sel.sum()))
    prefix[sel] = ""
    sel = cls == "international"
    abroad = [(cc + area, w) for cc, area, w in ABROAD if cc != prof.country_code]
    digits[sel] = _random_nsn(rng, int(sel.sum()), abroad)
    prefix[sel] = "00"
    return _numbers(prefix, digits), cls


def inbound_callers(rng: np.random.Generator, n: int, prof: TrunkProfile) -> pa.Array:
    """E.164 caller numbers (``+49…``) of ``n`` inbound calls: local, national and mobile callers."""
    plan = PLANS.get(prof.country_code, PLANS["49"])
    mix = rng.random(n)
    nsn = np.where(mix < 0.4, _random_nsn(rng, n, [(prof.area, plan["local_digits"] - len(prof.area) + 1)]),
                   np.where(mix < 0.7, _random_nsn(rng, n, plan["national"]), _random_nsn(rng, n, plan["mobile"])))
    return _numbers(np.full(n, "+" + prof.country_code, dtype=object), nsn)


def arrivals(rng: np.random.Generator, *, start_s: float, end_s: float, busy_hour_erl: float,
             scale: float = 1.0) -> np.ndarray:
    """Sorted integer arrival times (epoch s) of a non-homogeneous Poisson process following HOUR_PROFILE in the
    PBX's zone."""
    hours = np.arange(np.floor(start_s / 3600) * 3600, end_s, 3600.0)
    if not len(hours):
        return np.zeros(0, dtype=np.int64)
    local = pd.DatetimeIndex(pd.to_datetime(hours, unit="s", utc=True)).tz_convert(PBX_TIMEZONE)
    factor = HOUR_PROFILE[local.hour.to_numpy()] * np.where(local.dayofweek.to_numpy() >= 5, WEEKEND_FACTOR, 1.0)
    peak_per_h = busy_hour_erl * 3600.0 / MEAN_HOLD_S * scale
    counts = rng.poisson(factor * peak_per_h)
    t = np.repeat(hours, counts) + rng.random(int(counts.sum())) * 3600.0
    t = np.floor(t[(t >= start_s) & (t < end_s)]).astype(np.int64)
    t.sort()
    return t


def carried(start: np.ndarray, end: np.ndarray, channels: int | None) -> np.ndarray:
    """Which attempts (sorted by start) find a free channel: a loss system walked in time order."""
    if channels is None:
        return np.ones(len(start), dtype=bool)
    ok = np.ones(len(start), dtype=bool)
    busy: list[int] = []
    for i, (s, e) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
        while busy and busy[0] <= s:
            heapq.heappop(busy)
        if len(busy) >= channels:
            ok[i] = False
        else:
            heapq.heappush(busy, e)
    return ok


def _trunk_calls(rng: np.random.Generator, line: Line, prof: TrunkProfile, *, start_s: float, end_s: float,
                 scale: float) -> pd.DataFrame:
    t = arrivals(rng, start_s=start_s, end_s=end_s, busy_hour_erl=prof.busy_hour_erl, scale=scale)
    n = len(t)
    inbound = rng.random(n) < INBOUND_SHARE
    u = rng.random(n)
    # outcome of the attempt: answered, no answer, busy (inbound: the extension), failed
    disp = np.where(u < 0.82, "ANSWERED", np.where(u < 0.93, "NO ANSWER", np.where(
        inbound & (u < 0.97), "BUSY", "FAILED")))
    answered = disp == "ANSWERED"
    ring = np.where(answered, rng.integers(2, 20, n), np.where(disp == "NO ANSWER", rng.integers(15, 45, n),
                                                                rng.integers(0, 3, n)))
    talk = np.where(answered, np.maximum(1, np.round(rng.exponential(MEAN_TALK_S, n))).astype(np.int64), 0)
    end = t + ring + talk
    # a busier model keeps its blocking: scale× the traffic on scale× the channels
    ok = carried(t, end, None if line.channels is None else max(1, round(line.channels * scale)))
    # blocked: an outbound attempt rejected at once; an inbound one never reaches the PBX
    keep = ok | ~inbound
    blocked = ~ok & ~inbound
    disp = np.where(blocked, "CONGESTION", disp)
    ring = np.where(blocked, 0, ring)
    talk = np.where(blocked, 0, talk)
    answered = disp == "ANSWERED"
    ext = rng.integers(prof.extensions[0], prof.extensions[1] + 1, n)
    dialled, _ = outbound_numbers(rng, n, prof)
    number = pc.if_else(pa.array(inbound), inbound_callers(rng, n, prof), dialled)
    frame = pd.DataFrame({
        "start": t, "ring": ring, "talk": talk, "disposition": disp, "inbound": inbound,
        "ext": ext, "number": _strings(number),
    })[keep]
    frame["peer"] = prof.peer
    frame["kind"] = np.where(frame["inbound"], "in", "out")
    return frame


def _internal_calls(rng: np.random.Generator, prof: TrunkProfile, *, start_s: float, end_s: float,
                    scale: float) -> pd.DataFrame:
    t = arrivals(rng, start_s=start_s, end_s=end_s, busy_hour_erl=prof.busy_hour_erl * INTERNAL_SHARE,
                 scale=scale)
    n = len(t)
    u = rng.random(n)
    disp = np.where(u < 0.85, "ANSWERED", np.where(u < 0.95, "NO ANSWER", "BUSY"))
    answered = disp == "ANSWERED"
    ring = np.where(answered, rng.integers(2, 12, n), np.where(disp == "NO ANSWER", rng.integers(15, 30, n), 1))
    talk = np.where(answered, np.maximum(1, np.round(rng.exponential(90.0, n))).astype(np.int64), 0)
    lo, hi = prof.extensions
    a = rng.integers(lo, hi + 1, n)
    b = lo + (a - lo + rng.integers(1, hi - lo + 1, n)) % (hi - lo + 1)
    return pd.DataFrame({"start": t, "ring": ring, "talk": talk, "disposition": disp, "inbound": False,
                         "ext": a, "number": _strings(pc.cast(pa.array(b), pa.string())), "peer": "",
                         "kind": "int"})


def fraud_start_s(end_s: float) -> float:
    """03:00 Europe/Berlin of the night before ``end_s`` (the latest 03:00 whose hour has ended by ``end_s``)."""
    end = pd.Timestamp(end_s - 3600, unit="s", tz="UTC").tz_convert(PBX_TIMEZONE)
    night = end.normalize() + pd.Timedelta(hours=3)
    if night > end:
        night -= pd.Timedelta(days=1)
    return night.tz_localize(None).tz_localize(PBX_TIMEZONE).timestamp()


def _fraud_calls(rng: np.random.Generator, prof: TrunkProfile, *, start_s: float, end_s: float) -> pd.DataFrame:
    at = fraud_start_s(end_s)
    if at < start_s:
        return pd.DataFrame()
    n = FRAUD_CALLS
    t = np.sort(np.floor(at + rng.random(n) * 1500.0).astype(np.int64))
    number = _random_nsn(rng, n, [(prefix, 7) for prefix in FRAUD_PREFIXES])
    talk = rng.integers(120, 900, n)
    return pd.DataFrame({"start": t, "ring": rng.integers(3, 10, n), "talk": talk, "disposition": "ANSWERED",
                         "inbound": False, "ext": prof.extensions[1],
                         "number": _strings(_numbers(np.full(n, "00", dtype=object), number)), "peer": prof.peer,
                         "kind": "out"})


def model_calls(inventory: Inventory, *, start_s: float, end_s: float, seed: int = 1,
                scale: float = 1.0) -> pd.DataFrame:
    """The modelled calls of ``[start_s, end_s)`` (one row per attempt: start, ring, talk, disposition, ext,
    number, peer, kind in/out/int), sorted by end."""
    rng = np.random.default_rng(seed)
    parts = []
    voice = [ln for ln in inventory.lines if ln.type is LineType.VOICE_TRUNK]
    for k, line in enumerate(voice):
        prof = profile_of(line, k)
        parts.append(_trunk_calls(rng, line, prof, start_s=start_s, end_s=end_s, scale=scale))
        parts.append(_internal_calls(rng, prof, start_s=start_s, end_s=end_s, scale=scale))
        if prof.fraud:
            parts.append(_fraud_calls(rng, prof, start_s=start_s, end_s=end_s))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["start", "ring", "talk", "disposition", "inbound", "ext", "number", "peer",
                                     "kind", "end"])
    calls = pd.concat(parts, ignore_index=True)
    calls = calls.sort_values("start", kind="stable").reset_index(drop=True)
    calls["seq"] = np.arange(len(calls))
    calls["end"] = calls["start"] + calls["ring"] + calls["talk"]
    return calls.sort_values(["end", "seq"], kind="stable").reset_index(drop=True)


def expected_rows(inventory: Inventory, *, start_s: float, end_s: float) -> float:
    """About how many rows ``write_asterisk_month`` writes at scale 1 (to pick a scale for a row target)."""
    rng = np.random.default_rng(0)
    total = 0.0
    voice = [ln for ln in inventory.lines if ln.type is LineType.VOICE_TRUNK]
    for k, line in enumerate(voice):
        prof = profile_of(line, k)
        total += len(arrivals(rng, start_s=start_s, end_s=end_s, busy_hour_erl=prof.busy_hour_erl)) * (
            1 + INTERNAL_SHARE)
    return total


def _strings(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arr]) if isinstance(arr, pa.Array) else arr))


def _s(values: object) -> pa.Array:
    """A pyarrow string array of a column (ints cast, strings kept)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(values, pd.Series) and isinstance(values.array, pd.arrays.ArrowStringArray):
        arr = values.array._pa_array
    else:
        arr = pa.array(np.asarray(values))
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr if arr.type == pa.string() else pc.cast(arr, pa.string())


def _cat(*parts: object) -> pa.Array:
    return pc.binary_join_element_wise(*[p if isinstance(p, str) else _s(p) for p in parts], "")


def _q(values: object, *, quotes: bool = False) -> pa.Array:
    """A cdr_csv string field: quoted (inner quotes doubled when the values may hold some)."""
    return _cat('"', pc.replace_substring(_s(values), '"', '""') if quotes else values, '"')


_CLOCK: list[pa.Array] = []


def _times(epoch: np.ndarray) -> pa.Array:
    """``%Y-%m-%d %H:%M:%S`` in the PBX's zone: the day and the time of day looked up (strftime per value is slow)."""
    if not _CLOCK:
        sod = np.arange(86400)
        _CLOCK.append(pa.array([f"{h:02d}:{m:02d}:{x:02d}" for h, m, x in zip(
            sod // 3600, sod // 60 % 60, sod % 60, strict=True)]))
    epoch = np.asarray(epoch, dtype=np.int64)
    local = pd.DatetimeIndex(pd.to_datetime(epoch, unit="s", utc=True)).tz_convert(PBX_TIMEZONE).tz_localize(None)
    secs = local.as_unit("s").asi8
    day, sod = np.divmod(secs, 86400)
    days, inverse = np.unique(day, return_inverse=True)
    names = pa.array([str(np.datetime64(int(d), "D")) for d in days])
    return pc.binary_join_element_wise(names.take(pa.array(inverse)), _CLOCK[0].take(pa.array(sod)), " ")


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex8(values: np.ndarray) -> pa.Array:
    """8 lower-case hex digits of each value (Asterisk's channel suffix)."""
    shifts = np.arange(28, -4, -4, dtype=np.int64)
    digits = _HEX[(np.asarray(values, dtype=np.int64)[:, None] >> shifts) & 15]
    return pa.array(np.ascontiguousarray(digits).view("S8").ravel()).cast(pa.string())


def asterisk_rows(calls: pd.DataFrame) -> pa.Array:
    """The Master.csv lines (without newline) of modelled calls."""
    n = len(calls)
    kind = calls["kind"].to_numpy(dtype=object)
    inbound, outbound = kind == "in", kind == "out"
    ext = _s(calls["ext"].to_numpy(dtype=np.int64))
    number = _s(calls["number"])
    peer = _s(calls["peer"].to_numpy(dtype=object).astype(str))
    seq = calls["seq"].to_numpy(dtype=np.int64)
    leg_a, leg_b = _hex8(seq), _hex8(seq + (1 << 28))
    a_in, a_out = pa.array(inbound), pa.array(outbound)
    src = pc.if_else(a_in, number, ext)
    dst = pc.if_else(a_in, ext, number)
    channel = _cat("PJSIP/", pc.if_else(a_in, peer, ext), "-", leg_a)
    dstchannel = _cat("PJSIP/", pc.if_else(a_in, ext, pc.if_else(a_out, peer, number)), "-", leg_b)
    lastdata = pc.if_else(a_out, _cat("PJSIP/", number, "@", peer, ",60"), _cat("PJSIP/", dst, ",30"))
    clid = _cat('"', src, '" <', src, ">")
    start = calls["start"].to_numpy(dtype=np.int64)
    ring = calls["ring"].to_numpy(dtype=np.int64)
    end = calls["end"].to_numpy(dtype=np.int64)
    disp = _s(calls["disposition"].to_numpy(dtype=object).astype(str))
    answered = pc.equal(disp, "ANSWERED")
    answer = pc.if_else(answered, _times(start + ring), "")
    billsec = np.where(answered.to_numpy(zero_copy_only=False), end - (start + ring), 0)
    empty = pa.array(np.full(n, "", dtype=object), type=pa.string())
    fields = [
        _q(empty), _q(src), _q(dst), _q(pc.if_else(a_in, "from-trunk", "from-internal")), _q(clid, quotes=True), _q(channel),
        _q(dstchannel), _q(pa.array(np.full(n, "Dial", dtype=object), type=pa.string())), _q(lastdata),
        _q(_times(start)), _q(answer), _q(_times(end)), _s(end - start), _s(billsec), _q(disp),
        _q(pa.array(np.full(n, "DOCUMENTATION", dtype=object), type=pa.string())),
        _q(_cat(_s(start), ".", _s(seq))), _q(empty),
    ]
    return pc.binary_join_element_wise(*fields, ",")


def _text_bytes(arr: pa.Array) -> bytes:
    """The characters of a string array, concatenated (its data buffer between the first and last offsets)."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[int(offsets[0]):int(offsets[-1])] if len(arr) else b""


def write_asterisk_month(path: Path, inventory: Inventory, *, start_s: float, end_s: float, seed: int = 1,
                         scale: float = 1.0, target_rows: int | None = None) -> int:
    """Write the modelled calls of ``[start_s, end_s)`` to ``path`` as Asterisk cdr_csv rows (replacing the file);
    the number of rows. ``scale`` multiplies every arrival rate; ``target_rows`` picks the scale for about that
    many rows (the benchmark's million); a scaled model has as many times the contracted channels."""
    if target_rows is not None:
        scale = target_rows / max(expected_rows(inventory, start_s=start_s, end_s=end_s), 1.0)
    calls = model_calls(inventory, start_s=start_s, end_s=end_s, seed=seed, scale=scale)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        step = 200_000
        for i in range(0, len(calls), step):
            lines = pc.binary_join_element_wise(asterisk_rows(calls.iloc[i:i + step]), "", "\n")
            out.write(_text_bytes(lines))
    return len(calls)
