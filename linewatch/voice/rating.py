"""Rating: every outbound call gets its E.164 number, destination class and cost (docs/rating.md).

Column-wise throughout (numpy and pyarrow kernels, no Python loop per call): numbers are matched against prefixes
as integers through direct-address prefix tables (:class:`~linewatch.voice.numbering.PrefixTable`), times are put
into the plan's zone through a table of UTC offsets, bundles are consumed with one cumulative sum per line and
month, and money is computed exactly in integer millionths of the currency, rounded half up to its minor unit
once per call.

``dest_class`` is the class of the call's far end: the called number of an outbound call, the calling number of
an inbound call (where it came from: "minutes by destination class" then shows inbound traffic from mobiles or
abroad too); internal calls never leave the PBX (class ``unknown``). ``callee_e164`` and ``high_risk`` are for
outbound calls only (an inbound call is to the company's own number, and a call *from* a high-risk country is no
toll-fraud risk): <NA> and false for the others. What is charged (only **answered outbound** calls of a line that
has a rate plan; every other call costs 0):

* the talk time ``billsec_s`` rounded up to whole seconds, then to the plan's increment: ``first/next`` bills at
  least ``first`` seconds, then whole ``next`` steps (``billed_s``; 0 s of talk bills 0 s);
* of those, the seconds an included-minute bundle still covers (``bundle_s``, in call start order per line and
  month of the plan's zone) are free; the rest are charged at the matched per-minute rate of the start's time band,
  at least the plan's ``minimum_charge`` when anything is charged;
* plus the plan's ``connection_fee`` (also for a call wholly in the bundle);
* emergency calls are never charged.

``rate_prefix`` and ``band`` are filled for the charged calls (``band`` "" for the others and for plans without
bands). A call no rate of its plan matches keeps its ``billed_s`` but costs 0, with ``rate_prefix`` <NA>: counted
in :attr:`RatedBatch.unrated` so the pipeline can report it. ``rate_plan`` and ``currency`` are the line's plan
for every call of the line ("" without one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linewatch.choices import CallDirection, CallOutcome, DestinationClass
from linewatch.voice.frame import ALL_COLUMNS, CALL_COLUMNS
from linewatch.voice.numbering import (
    DEST_CLASSES,
    E164Digits,
    NumberingConfig,
    PrefixTable,
    arrow_strings,
    clean_digits,
    string_series,
)
from linewatch.voice.rateplan import MINUTES_PER_WEEK, RATE_PLACES, RatePlan, month_bounds

__all__ = ["RatedBatch", "Rater", "month_bounds"]

_MICRO = 10**RATE_PLACES
_CLASS = {name: i for i, name in enumerate(DEST_CLASSES)}
_OFFSET_QUANTUM_S = 900  # zone offsets change on a quarter hour: one lookup entry per 15 minutes of the batch
_OFFSET_TABLE_MAX = 2_000_000  # entries (57 years): longer spans convert each time directly


@dataclass(frozen=True)
class RatedBatch:
    frame: pd.DataFrame  # ALL_COLUMNS in order, then the input's extra columns; the input's index and row order
    bundle_used_s: dict[tuple[str, str], float]  # (line, "YYYY-MM") -> bundle seconds used, this batch included
    unrated: int = 0  # answered outbound calls of a line with a plan that no rate of the plan matched (cost 0)
    unrated_lines: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class LocalTimes:
    """Start times in a zone: minute of the week (Monday 00:00 = 0), month ("YYYY-MM" as months since 1970-01)
    and day (days since 1970-01-01) of the local date."""

    minute_of_week: np.ndarray
    month: np.ndarray
    day: np.ndarray

    @classmethod
    def of(cls, start_s: np.ndarray, zone: str) -> LocalTimes:
        local = start_s + _utc_offsets_s(start_s, zone)
        day = np.floor(local / 86400.0).astype(np.int64)
        minute = np.floor((local - day * 86400.0) / 60.0).astype(np.int64)
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return cls(weekday * 1440 + np.clip(minute, 0, 1439), month, day)


def _utc_offsets_s(start_s: np.ndarray, zone: str) -> np.ndarray:
    """The zone's UTC offset at each time, in seconds, from a table of one entry per 15 minutes of the span."""
    if not len(start_s) or zone == "UTC":
        return np.zeros(len(start_s))
    quantum = np.floor(start_s / _OFFSET_QUANTUM_S).astype(np.int64)
    lo, hi = int(quantum.min()), int(quantum.max())
    if hi - lo >= _OFFSET_TABLE_MAX:
        return _offsets_direct(start_s, zone)
    grid = (np.arange(lo, hi + 1, dtype=np.int64) * _OFFSET_QUANTUM_S).astype("datetime64[s]")
    return _offsets_direct(grid, zone)[quantum - lo]


def _offsets_direct(times: np.ndarray, zone: str) -> np.ndarray:
    utc = pd.DatetimeIndex(np.asarray(times).astype("datetime64[s]"), tz="UTC")
    local = utc.tz_convert(zone).tz_localize(None)
    return ((local - utc.tz_localize(None)) / np.timedelta64(1, "s")).to_numpy(dtype=np.float64)


def month_text(months: np.ndarray) -> np.ndarray:
    """Months since 1970-01 as "YYYY-MM" strings."""
    return np.datetime_as_string(months.astype("datetime64[M]"), unit="M")


def billed_seconds(billsec_s: np.ndarray, first_s: int, next_s: int) -> np.ndarray:
    """Talk seconds (rounded up to whole seconds) rounded to a ``first/next`` increment; 0 stays 0."""
    talk = np.ceil(np.maximum(np.nan_to_num(billsec_s), 0.0) - 1e-6)
    steps = np.ceil(np.maximum(talk - first_s, 0.0) / next_s)
    return np.where(talk <= 0, 0.0, first_s + steps * next_s)


class _CompiledPlan:
    """A plan's rates as arrays: one prefix table per destination class (the entries without a class and those of
    the class: the longest prefix wins, at equal length the entry naming the class), per entry its per-band rate
    in millionths."""

    def __init__(self, plan: RatePlan):
        self.plan = plan
        self.bands = plan.band_names
        self.week_bands = np.array(plan.week_bands, dtype=np.int64)
        self.prefixes = [r.prefix or "" for r in plan.rates]
        self.micro = np.array([[int(plan.rate_of(r, b) * _MICRO) for b in self.bands] for r in plan.rates],
                              dtype=np.int64)
        unclassed = {p: i for i, (p, r) in enumerate(zip(self.prefixes, plan.rates)) if r.dest_class is None}
        per_class = [dict(unclassed) for _ in DEST_CLASSES]
        for i, (p, r) in enumerate(zip(self.prefixes, plan.rates)):
            if r.dest_class is not None:
                per_class[_CLASS[r.dest_class.value]][p] = i
        self.rates = PrefixTable(per_class)
        self.holiday_band = self.bands.index(plan.holidays.band) if plan.holidays else -1
        self.holiday_days = np.array([(d - dt.date(1970, 1, 1)).days for d in plan.holidays.dates] if plan.holidays
                                     else [], dtype=np.int64)
        self.minimum_micro = int(plan.minimum_charge * _MICRO)
        self.fee_micro = int(plan.connection_fee * _MICRO)
        self.unit_micro = 10 ** (RATE_PLACES - plan.minor_unit)
        bundle = plan.bundles[0] if plan.bundles else None
        self.bundle_s = float(bundle.minutes * 60) if bundle else 0.0
        self.bundle_classes = [_CLASS[c.value] for c in bundle.classes] if bundle else []
        self.bundle_prefixes = PrefixTable(dict.fromkeys(bundle.prefixes, 0)) if bundle and bundle.prefixes else None

    def band_of(self, local: LocalTimes) -> np.ndarray:
        band = self.week_bands[local.minute_of_week % MINUTES_PER_WEEK]
        if self.holiday_band >= 0:
            band = np.where(np.isin(local.day, self.holiday_days), self.holiday_band, band)
        return band

    def in_bundle(self, number: E164Digits, classes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.isin(classes, self.bundle_classes)
        if self.bundle_prefixes is not None:
            out |= self.bundle_prefixes.lookup(number, among=rows) >= 0
        return out

    def cost(self, billed_s: np.ndarray, bundle_s: np.ndarray, entry: np.ndarray, band: np.ndarray) -> np.ndarray:
        """Connection fee + max(chargeable seconds x rate, minimum charge), exactly in millionths, rounded half up
        to the currency's minor unit."""
        rate_micro = self.micro[entry, band]
        chargeable = (billed_s - bundle_s).astype(np.int64)
        amount = chargeable * rate_micro  # millionths x 60: per-minute rates times seconds
        amount = np.where(chargeable > 0, np.maximum(amount, self.minimum_micro * 60), 0) + self.fee_micro * 60
        unit = 60 * self.unit_micro
        return ((amount + unit // 2) // unit) / 10**self.plan.minor_unit


class Rater:
    """Rates call frames with voice.yaml's rate plans and numbering. Build once, call :meth:`rate` per batch."""

    def __init__(self, plans: Sequence[RatePlan], numbering: NumberingConfig):
        self.numbering = numbering
        self.plans = {p.name: p for p in plans}
        self._compiled = {p.name: _CompiledPlan(p) for p in plans}

    def rate(self, calls: pd.DataFrame, *, plan_of_line: Mapping[str, str], country_of_line: Mapping[str, str],
             bundle_used_s: Mapping[tuple[str, str], float] | None = None) -> RatedBatch:
        """``calls`` (CALL_COLUMNS, extra columns kept) with RATED_COLUMNS; ``bundle_used_s`` is the bundle use of
        each (line, "YYYY-MM") before this batch (the store's), the result's the use after it."""
        missing = [c for c in CALL_COLUMNS if c not in calls.columns]
        if missing:
            raise ValueError(f"call frame lacks column(s) {', '.join(missing)}")
        n = len(calls)
        used = dict(bundle_used_s or {})
        lines = arrow_strings(calls["line"]).dictionary_encode()
        line_names: list[str] = lines.dictionary.to_pylist()
        line_code = pc.fill_null(lines.indices, len(line_names)).to_numpy(zero_copy_only=False).astype(np.int64)
        plan_names = sorted({plan_of_line[ln] for ln in line_names if plan_of_line.get(ln)})
        for ln in line_names:
            if plan_of_line.get(ln) and plan_of_line[ln] not in self.plans:
                raise ValueError(f"line {ln}: rate plan {plan_of_line[ln]!r} is not defined in voice.yaml rate_plans")
        line_plan = np.array([plan_names.index(plan_of_line[ln]) if plan_of_line.get(ln) else -1
                              for ln in line_names] + [-1], dtype=np.int64)  # the last: calls without a line
        default_cc = self.numbering.country_code
        line_cc = [country_of_line.get(ln) or default_cc for ln in line_names] + [default_cc]
        countries = sorted(set(line_cc))
        line_country = np.array([countries.index(c) for c in line_cc], dtype=np.int64)

        # The far end of the call: the called number of an outbound call, the calling one of an inbound call;
        # internal calls have none. Only outbound calls are charged, have a callee_e164 and can be high risk.
        outbound = _equals(calls["direction"], CallDirection.OUTBOUND.value)
        ob = np.flatnonzero(outbound | _equals(calls["direction"], CallDirection.INBOUND.value))
        out_ob = outbound[ob]
        ob_line = line_code[ob]
        callee = arrow_strings(calls["callee"]).take(pa.array(ob))
        far = callee if out_ob.all() else pc.if_else(pa.array(out_ob), callee,
                                                     arrow_strings(calls["caller"]).take(pa.array(ob)))
        digits, plus = clean_digits(far)
        country = line_country[ob_line]
        e164 = self.numbering.e164_array(digits, plus, pa.array(countries, digits.type).take(pa.array(country)))
        number = E164Digits.of(e164)
        classes, high_risk = self.numbering.class_codes(number, country, countries, digits)
        high_risk &= out_ob
        if not out_ob.all():
            e164 = pc.if_else(pa.array(out_ob), e164, pa.scalar(None, e164.type))
        plan_of_row = line_plan[ob_line]
        charged = (_equals(calls["outcome"], CallOutcome.ANSWERED.value)[ob] & out_ob & (plan_of_row >= 0)
                   & (classes != _CLASS[DestinationClass.EMERGENCY.value]))
        start_s = calls["start_s"].to_numpy(dtype=np.float64, na_value=np.nan)[ob]
        billsec = calls["billsec_s"].to_numpy(dtype=np.float64, na_value=np.nan)[ob]
        billed, bundle, cost = np.zeros(len(ob)), np.zeros(len(ob)), np.zeros(len(ob))
        entry_name = np.full(len(ob), -1, dtype=np.int64)  # into prefix_names
        band_name = np.full(len(ob), -1, dtype=np.int64)  # into band_names
        unrated = np.zeros(len(ob), bool)
        prefix_names: list[str] = []
        band_names: list[str] = []
        for p, name in enumerate(plan_names):
            plan = self._compiled[name]
            rows = charged & (plan_of_row == p)
            entry = plan.rates.lookup(number, group=classes.astype(np.int64), among=rows)
            idx = np.flatnonzero(rows)
            local = LocalTimes.of(np.nan_to_num(start_s[idx]), plan.plan.timezone)
            band, found = plan.band_of(local), entry[idx] >= 0
            billed[idx] = billed_seconds(billsec[idx], plan.plan.first_s, plan.plan.next_s)
            if plan.bundle_s:
                take = found & plan.in_bundle(number, classes, rows)[idx] & (billed[idx] > 0)
                bundle[idx[take]] = _take_bundle(ob_line[idx[take]], local.month[take], start_s[idx[take]],
                                                 billed[idx[take]], plan.bundle_s, line_names, used)
            rated = idx[found]
            cost[rated] = plan.cost(billed[rated], bundle[rated], entry[rated], band[found])
            unrated[idx[~found]] = True
            entry_name[rated] = entry[rated] + len(prefix_names)
            band_name[idx] = band + len(band_names)
            prefix_names += plan.prefixes
            band_names += plan.bands

        index = calls.index
        rated_columns = {
            "callee_e164": string_series(_spread(e164, ob, n), index),
            "dest_class": string_series(_names_at(DEST_CLASSES, _spread_np(classes, ob, n, _UNKNOWN)), index),
            "high_risk": pd.Series(_spread_np(high_risk, ob, n, False), index=index, dtype="bool"),
            "rate_plan": string_series(_names_at(plan_names, line_plan[line_code], ""), index),
            "rate_prefix": string_series(_names_at(prefix_names, _spread_np(entry_name, ob, n, -1)), index),
            "band": string_series(_names_at(band_names, _spread_np(band_name, ob, n, -1), ""), index),
            "billed_s": pd.Series(_spread_np(billed, ob, n, 0.0), index=index),
            "bundle_s": pd.Series(_spread_np(bundle, ob, n, 0.0), index=index),
            "cost": pd.Series(_spread_np(cost, ob, n, 0.0), index=index),
            "currency": string_series(_names_at([self.plans[p].currency for p in plan_names],
                                                line_plan[line_code], ""), index),
        }
        columns = {c: calls[c] for c in CALL_COLUMNS} | rated_columns
        columns |= {c: calls[c] for c in calls.columns if c not in ALL_COLUMNS}
        frame = pd.DataFrame(columns, index=index, copy=False)
        unrated_lines = tuple(sorted({line_names[c] for c in np.unique(ob_line[unrated]) if c < len(line_names)}))
        return RatedBatch(frame, used, int(unrated.sum()), unrated_lines)


_UNKNOWN = _CLASS[DestinationClass.UNKNOWN.value]


def _equals(values: pd.Series, text: str) -> np.ndarray:
    return pc.fill_null(pc.equal(arrow_strings(values), text), False).to_numpy(zero_copy_only=False)


def _spread(values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """A length-``n`` array with ``values`` at ``rows`` and nulls elsewhere."""
    if len(rows) == n:
        return values
    where = np.full(n, len(rows), dtype=np.int64)
    where[rows] = np.arange(len(rows))
    return pa.concat_arrays([values, pa.nulls(1, values.type)]).take(pa.array(where))


def _spread_np(values: np.ndarray, rows: np.ndarray, n: int, fill: object) -> np.ndarray:
    out = np.full(n, fill, dtype=values.dtype)
    out[rows] = values
    return out


def _names_at(names: Sequence[str], index: np.ndarray, missing: str | None = None) -> pa.Array:
    """names[index], ``missing`` (null by default) where index is -1."""
    arr = pa.array([*names, missing], pa.large_string())
    return arr.take(pa.array(np.where(index < 0, len(names), index)))


def _take_bundle(line_code: np.ndarray, month: np.ndarray, start_s: np.ndarray, billed: np.ndarray,
                 bundle_s: float, line_names: list[str], used: dict[tuple[str, str], float]) -> np.ndarray:
    """Bundle seconds of each eligible call, consumed in start order per (line, month) after the earlier use in
    ``used``, which is updated."""
    if not len(billed):
        return np.zeros(0)
    order = np.lexsort((start_s, month, line_code))
    key_line, key_month, secs = line_code[order], month[order], billed[order]
    new_group = np.ones(len(order), bool)
    new_group[1:] = (key_line[1:] != key_line[:-1]) | (key_month[1:] != key_month[:-1])
    group = np.cumsum(new_group) - 1
    firsts = np.flatnonzero(new_group)
    labels = month_text(key_month[firsts])
    keys = [(line_names[key_line[i]], str(labels[j])) for j, i in enumerate(firsts)]
    before = np.array([used.get(k, 0.0) for k in keys])
    total = np.cumsum(secs)
    group_start = np.concatenate(([0.0], total[firsts[1:] - 1])) if len(firsts) > 1 else np.zeros(1)
    taken_before = total - secs - group_start[group] + before[group]
    take = np.clip(bundle_s - taken_before, 0.0, secs)
    group_take = np.bincount(group, weights=take, minlength=len(firsts))
    for j, key in enumerate(keys):
        used[key] = float(before[j] + group_take[j])
    out = np.zeros(len(billed))
    out[order] = take
    return out
