"""Rating: every call of the normalized frame gets its E.164 number, destination class and cost (docs/rating.md).

Column-wise throughout (numpy and pyarrow kernels): numbers are matched against prefixes as integers (one sorted
lookup per prefix length), times are put into the plan's zone through a table of UTC offsets, bundles are consumed
with one cumulative sum per line and month, and money is computed exactly in integer millionths of the currency,
rounded half up to its minor unit once per call. No Python loop per call.

What is charged (only **answered outbound** calls of a line that has a rate plan; every other call costs 0):

* the talk time ``billsec_s`` rounded up to whole seconds, then to the plan's increment: ``first/next`` bills at
  least ``first`` seconds, then whole ``next`` steps (``billed_s``; 0 s of talk bills 0 s);
* of those, the seconds an included-minute bundle still covers (``bundle_s``, in call start order per line and
  month of the plan's zone) are free; the rest are charged at the matched per-minute rate of the start's time band,
  at least the plan's ``minimum_charge`` when anything is charged;
* plus the plan's ``connection_fee`` (also for a call wholly in the bundle);
* emergency calls are never charged; internal calls have no destination (``callee_e164`` <NA>, class unknown).

A call no rate of its plan matches keeps its ``billed_s`` but costs 0, with ``rate_prefix`` <NA>: counted in
:attr:`RatedBatch.unrated` so the pipeline can report it.
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
from linewatch.voice.frame import ALL_COLUMNS, CALL_COLUMNS, RATED_COLUMNS
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
    """A plan's rates as arrays: per entry its prefix, class and per-band rate in millionths."""

    def __init__(self, plan: RatePlan):
        self.plan = plan
        self.bands = plan.band_names
        self.week_bands = np.array(plan.week_bands, dtype=np.int64)
        self.prefixes = [r.prefix or "" for r in plan.rates]
        self.prefix_len = np.array([len(p) for p in self.prefixes], dtype=np.int64)
        self.micro = np.array([[int(plan.rate_of(r, b) * _MICRO) for b in self.bands] if plan.bands
                               else [int(plan.rate_of(r, "") * _MICRO)] for r in plan.rates], dtype=np.int64)
        self.unclassed = PrefixTable({p: i for i, (p, r) in enumerate(zip(self.prefixes, plan.rates))
                                      if r.dest_class is None})
        by_class: dict[int, dict[str, int]] = {}
        for i, (p, r) in enumerate(zip(self.prefixes, plan.rates)):
            if r.dest_class is not None:
                by_class.setdefault(_CLASS[r.dest_class.value], {})[p] = i
        self.by_class = {code: PrefixTable(table) for code, table in by_class.items()}
        self.holiday_band = self.bands.index(plan.holidays.band) if plan.holidays else -1
        self.holiday_days = (np.array([(d - dt.date(1970, 1, 1)).days for d in plan.holidays.dates], dtype=np.int64)
                             if plan.holidays else np.zeros(0, np.int64))
        self.minimum_micro = int(plan.minimum_charge * _MICRO)
        self.fee_micro = int(plan.connection_fee * _MICRO)
        self.unit_micro = 10 ** (RATE_PLACES - plan.minor_unit)
        bundle = plan.bundles[0] if plan.bundles else None
        self.bundle_s = float(bundle.minutes * 60) if bundle else 0.0
        self.bundle_classes = [_CLASS[c.value] for c in bundle.classes] if bundle else []
        self.bundle_prefixes = PrefixTable(dict.fromkeys(bundle.prefixes, 0)) if bundle and bundle.prefixes else None

    def match(self, number: E164Digits, classes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The rate entry of each row (-1: none): the longest matching prefix among the entries without a class
        and those of the row's class; at equal length the entry naming the class wins."""
        best = number.longest_prefix(self.unclassed, among=rows)
        for code, table in self.by_class.items():
            hit = number.longest_prefix(table, among=rows & (classes == code))
            better = (hit >= 0) & ((best < 0) | (self.prefix_len[np.maximum(hit, 0)] >= self.prefix_len[
                np.maximum(best, 0)]))
            best = np.where(better, hit, best)
        return best

    def band_of(self, local: LocalTimes) -> np.ndarray:
        band = self.week_bands[local.minute_of_week % MINUTES_PER_WEEK]
        if self.holiday_band >= 0:
            band = np.where(np.isin(local.day, self.holiday_days), self.holiday_band, band)
        return band

    def in_bundle(self, number: E164Digits, classes: np.ndarray) -> np.ndarray:
        out = np.isin(classes, self.bundle_classes)
        if self.bundle_prefixes is not None:
            out |= number.longest_prefix(self.bundle_prefixes) >= 0
        return out


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
        line_code = pc.fill_null(lines.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        for line in line_names:
            plan = plan_of_line.get(line) if line is not None else None
            if plan and plan not in self.plans:
                raise ValueError(f"line {line}: rate plan {plan!r} is not defined in voice.yaml rate_plans")
        plan_names = sorted({plan_of_line[ln] for ln in line_names if ln is not None and plan_of_line.get(ln)})
        plan_index = {name: i for i, name in enumerate(plan_names)}
        line_plan = np.array([plan_index.get(plan_of_line.get(ln) or "", -1) if ln is not None else -1
                              for ln in line_names] + [-1], dtype=np.int64)
        row_plan = line_plan[line_code]  # line_code -1 picks the sentinel -1
        default_cc = self.numbering.country_code
        line_cc = pa.array([(country_of_line.get(ln) if ln is not None else None) or default_cc
                            for ln in line_names] + [default_cc], pa.large_string())
        countries = line_cc.take(pa.array(np.where(line_code < 0, len(line_names), line_code)))

        direction = arrow_strings(calls["direction"])
        internal = pc.fill_null(pc.equal(direction, CallDirection.INTERNAL.value), False).to_numpy(
            zero_copy_only=False)
        outbound = pc.fill_null(pc.equal(direction, CallDirection.OUTBOUND.value), False).to_numpy(
            zero_copy_only=False)
        answered = pc.fill_null(pc.equal(arrow_strings(calls["outcome"]), CallOutcome.ANSWERED.value),
                                False).to_numpy(zero_copy_only=False)
        digits, plus = clean_digits(arrow_strings(calls["callee"]))
        e164 = self.numbering.e164_array(digits, plus, countries)
        if internal.any():
            e164 = pc.if_else(pa.array(internal), pa.scalar(None, e164.type), e164)
        number = E164Digits.of(e164)
        classes, high_risk = self.numbering.class_codes(number, countries, digits)
        classes[internal] = _CLASS[DestinationClass.UNKNOWN.value]
        high_risk &= ~internal

        start_s = calls["start_s"].to_numpy(dtype=np.float64, na_value=np.nan)
        billsec = calls["billsec_s"].to_numpy(dtype=np.float64, na_value=np.nan)
        charged = answered & outbound & (classes != _CLASS[DestinationClass.EMERGENCY.value]) & (row_plan >= 0)
        billed = np.zeros(n)
        bundle = np.zeros(n)
        cost = np.zeros(n)
        entry_global = np.full(n, -1, dtype=np.int64)
        band_global = np.full(n, -1, dtype=np.int64)
        prefix_names: list[str] = []
        band_names: list[str] = []
        unrated = np.zeros(n, bool)
        for p, name in enumerate(plan_names):
            plan = self._compiled[name]
            rows = row_plan == p
            local = LocalTimes.of(np.nan_to_num(start_s[rows]), plan.plan.timezone)
            band = np.full(n, -1, dtype=np.int64)
            band[rows] = plan.band_of(local)
            entry = plan.match(number, classes, rows)
            sel = rows & charged
            billed[sel] = billed_seconds(billsec[sel], plan.plan.first_s, plan.plan.next_s)
            if plan.bundle_s:
                months = np.zeros(n, dtype=np.int64)
                months[rows] = local.month
                eligible = sel & (entry >= 0) & plan.in_bundle(number, classes) & (billed > 0)
                bundle[eligible] = _take_bundle(line_code[eligible], months[eligible], start_s[eligible],
                                                billed[eligible], plan.bundle_s, line_names, used)
            rated = sel & (entry >= 0)
            unrated |= sel & (entry < 0)
            rate_micro = plan.micro[np.maximum(entry[rated], 0), np.maximum(band[rated], 0)]
            chargeable = (billed[rated] - bundle[rated]).astype(np.int64)
            amount = chargeable * rate_micro  # millionths x 60 (per-minute rates over seconds)
            amount = np.where(chargeable > 0, np.maximum(amount, plan.minimum_micro * 60), 0)
            amount += plan.fee_micro * 60
            unit = 60 * plan.unit_micro
            cost[rated] = ((amount + unit // 2) // unit) / 10**plan.plan.minor_unit
            entry_global[rows & (entry >= 0)] = entry[rows & (entry >= 0)] + len(prefix_names)
            band_global[rows] = band[rows] + len(band_names)
            prefix_names += plan.prefixes
            band_names += plan.bands

        plan_of_row = pa.array(plan_names + [""], pa.large_string()).take(
            pa.array(np.where(row_plan < 0, len(plan_names), row_plan)))
        currency_of_row = pa.array([self.plans[p].currency for p in plan_names] + [""], pa.large_string()).take(
            pa.array(np.where(row_plan < 0, len(plan_names), row_plan)))
        index = calls.index
        rated_columns = {
            "callee_e164": string_series(e164, index),
            "dest_class": string_series(pa.array(DEST_CLASSES, pa.large_string()).take(pa.array(classes)), index),
            "high_risk": pd.Series(high_risk, index=index, dtype="bool"),
            "rate_plan": string_series(plan_of_row, index),
            "rate_prefix": string_series(_names_at(prefix_names, entry_global), index),
            "band": string_series(pc.fill_null(_names_at(band_names, band_global), ""), index),
            "billed_s": pd.Series(billed, index=index),
            "bundle_s": pd.Series(bundle, index=index),
            "cost": pd.Series(cost, index=index),
            "currency": string_series(currency_of_row, index),
        }
        columns = {c: calls[c] for c in CALL_COLUMNS} | rated_columns
        columns |= {c: calls[c] for c in calls.columns if c not in ALL_COLUMNS}
        frame = pd.DataFrame(columns, index=index, copy=False)
        assert list(frame.columns[: len(ALL_COLUMNS)]) == list(ALL_COLUMNS) and set(RATED_COLUMNS) <= set(frame)
        unrated_lines = tuple(sorted({line_names[c] for c in np.unique(line_code[unrated]) if c >= 0}))
        return RatedBatch(frame, used, int(unrated.sum()), unrated_lines)


def _names_at(names: list[str], index: np.ndarray) -> pa.Array:
    """names[index], null where index is -1."""
    arr = pa.array(names + [None], pa.large_string())
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
