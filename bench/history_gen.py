"""Deterministic utilization histories with known truth, for the trends benchmarks and tests.

``generate()`` builds a long frame (``line``, ``time`` (UTC, tz-aware), ``value`` utilization %, ``expected`` the
same without noise and anomalies) for a set of lines, each with a known growth per month, a weekly shape
(office hours on weekdays, a lower weekend, a night floor, in the zone ``tz``), holidays at weekend level, noise
(per sample and per day) and, optionally, injected anomalies returned with their ground-truth labels:

- ``drop``: traffic falls to a fraction of normal during busy hours (a fault before anything goes down),
- ``surge``: traffic jumps at night (a 3 am surge),
- ``level_shift``: the line moves to a new level for good (traffic moved to or from another line).

Each anomaly is ``large`` or ``moderate`` (``AnomalyLabel.severity``); ``moderate_share`` (default 0: all large, the
frames of earlier versions bit for bit) is the chance that one is moderate, drawn per anomaly from the seed:

============  =========================================  ==============================================
kind          large                                      moderate (what real faults often look like)
============  =========================================  ==============================================
drop          to 5–40 % of normal, 30 min – 6 h          to 50–70 % (−30…−50 %: one member of a 2-link
                                                         LAG lost, part of a site down), 1 – 6 h
surge         +25…+60 points at 1–4 am, 30 min – 3 h     +20…+40 points at 0–4 am, 1 – 4 h (a backup job)
level_shift   ±30…60 % of the level, for good            ±15…30 % of the level, for good
============  =========================================  ==============================================

Everything comes from ``seed``: the same arguments give the same frame, labels and specs, so benchmarks compare
methods on identical data and tests can assert exact truths. ``true_busy_hour(spec, ...)`` and
``true_crossing(spec, level_pct, ...)`` give the noise-free truth the forecasts are judged against.

Used by ``bench/bench_forecast_accuracy.py``, ``bench/bench_anomaly_detection.py`` and tests/trends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["AnomalyLabel", "History", "LineSpec", "generate", "random_specs", "true_busy_hour", "true_crossing"]

ANOMALY_KINDS = ("drop", "surge", "level_shift")
SEVERITIES = ("large", "moderate")


@dataclass(frozen=True)
class LineSpec:
    """One generated line. Utilization at a moment = ``night_pct`` + (level − ``night_pct``) × shape, where
    level = ``base_pct`` + ``growth_pct_per_month`` × months since the start (the weekday busy-hour level) and
    shape is 1 in the weekday office peak, ``weekend_factor`` at its weekend peak, 0 at night."""

    name: str
    base_pct: float = 50.0  # weekday busy-hour utilization on the first day
    growth_pct_per_month: float = 5.0  # percentage points per 30 days
    night_pct: float = 5.0  # the floor at night
    weekend_factor: float = 0.35  # weekend (and holiday) peak relative to the weekday peak above the floor
    noise_pct: float = 2.0  # sd of the per-sample noise, points
    day_noise_pct: float = 1.5  # sd of a per-day level wobble, points (busy hours differ day to day)
    office: bool = True  # False: a 24/7 line (a flat-ish day, a mild evening peak) instead of office hours

    def level_pct(self, days: np.ndarray | float) -> np.ndarray | float:
        """The noise-free weekday busy-hour level ``days`` after the start."""
        return self.base_pct + self.growth_pct_per_month * np.asarray(days, dtype=float) / 30.0


@dataclass(frozen=True)
class AnomalyLabel:
    """Ground truth of one injected anomaly: [start, end) in UTC, ``magnitude_pct`` the mean points added over it
    (negative for a drop or a downward shift)."""

    line: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str  # one of ANOMALY_KINDS ("drop" and "surge" are AnomalyDirection values)
    magnitude_pct: float
    severity: str = "large"  # one of SEVERITIES (module docstring: the ranges of each)


@dataclass(frozen=True)
class History:
    """A generated history: the long frame, the specs, the labels, the holidays and the grid."""

    frame: pd.DataFrame  # line, time (UTC), value, expected
    specs: list[LineSpec]
    anomalies: list[AnomalyLabel]
    holidays: list[dt.date]
    start: pd.Timestamp
    days: int
    step_s: int
    tz: str

    def series(self, line: str, column: str = "value") -> pd.Series:
        """One line's ``value`` (or ``expected``) as a Series on its UTC time index."""
        part = self.frame[self.frame["line"] == line]
        return pd.Series(part[column].to_numpy(), index=pd.DatetimeIndex(part["time"]), name=line)

    def spec(self, line: str) -> LineSpec:
        return next(s for s in self.specs if s.name == line)


def _shape(hour: np.ndarray, office: bool) -> np.ndarray:
    """Intra-day shape 0..1 by local hour (fractional): office hours peak 10–12 and 14–17, 24/7 lines 20–22."""
    if office:
        morning = np.exp(-0.5 * ((hour - 11.0) / 1.6) ** 2)
        afternoon = np.exp(-0.5 * ((hour - 15.5) / 1.9) ** 2)
        return np.clip(np.maximum(morning, afternoon) * 1.0, 0.0, 1.0)
    return 0.55 + 0.45 * np.exp(-0.5 * ((hour - 21.0) / 2.5) ** 2) - 0.25 * np.exp(-0.5 * ((hour - 4.5) / 2.0) ** 2)


def random_specs(count: int, *, seed: int = 0, prefix: str = "LINE") -> list[LineSpec]:
    """A plausible mix of lines: mostly growing office lines, some flat or shrinking, some 24/7, some idle."""
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(count):
        kind = rng.choice(["growing", "growing", "growing", "flat", "shrinking", "always_on", "idle"])
        office = kind != "always_on"
        base = {"idle": rng.uniform(1.0, 6.0)}.get(kind, rng.uniform(30.0, 65.0))
        growth = {"growing": rng.uniform(2.0, 12.0), "always_on": rng.uniform(0.0, 8.0),
                  "shrinking": rng.uniform(-4.0, -1.0), "idle": 0.0}.get(kind, rng.uniform(-0.3, 0.3))
        specs.append(LineSpec(
            name=f"{prefix}-{i:04d}", base_pct=round(float(base), 2), growth_pct_per_month=round(float(growth), 2),
            night_pct=round(float(min(base * 0.2, rng.uniform(1.0, 8.0))), 2),
            weekend_factor=round(float(rng.uniform(0.2, 0.6) if office else rng.uniform(0.8, 1.0)), 2),
            noise_pct=round(float(rng.uniform(0.5, 4.0) if kind != "idle" else 0.3), 2),
            day_noise_pct=round(float(rng.uniform(0.5, 3.0) if kind != "idle" else 0.2), 2),
            office=office))
    return specs


def _holidays(start_local: pd.Timestamp, days: int, rng: np.random.Generator) -> list[dt.date]:
    """About one weekday holiday a month, sometimes two in a row (Chuseok-like)."""
    out: list[dt.date] = []
    weekdays = [d for d in pd.date_range(start_local, periods=days, freq="D") if d.day_of_week < 5]
    for _ in range(max(1, days // 30)):
        day = weekdays[int(rng.integers(0, len(weekdays)))]
        out.append(day.date())
        if rng.random() < 0.3:
            out.append((day + pd.Timedelta(days=1)).date())
    return sorted(set(out))


def generate(*, specs: Sequence[LineSpec] | None = None, lines: int = 20, days: int = 91, step_s: int = 300,
             start: dt.datetime | pd.Timestamp | str = "2026-06-01", tz: str = "UTC", seed: int = 0,
             holidays: Sequence[dt.date] | None = None, anomalies_per_line: float = 0.0,
             anomaly_after_days: int = 28, anomaly_kinds: Sequence[str] = ANOMALY_KINDS,
             moderate_share: float = 0.0) -> History:
    """A seeded history of ``days`` days at ``step_s`` seconds for ``specs`` (or ``random_specs(lines, seed)``).

    ``start``: the first local midnight (in ``tz``; the frame's times are UTC). ``holidays``: dates at weekend level
    (None: about one weekday a month, drawn from the seed; ``[]``: none). ``anomalies_per_line``: the mean number
    of injected anomalies per line (Poisson), placed after ``anomaly_after_days`` (so a baseline has weeks of
    normal traffic) and never overlapping on one line; kinds drawn from ``anomaly_kinds``. ``moderate_share``: the
    chance that an anomaly is moderate rather than large (module docstring); 0 draws nothing extra, so the frames
    and labels are those of the generator before moderate anomalies existed.
    """
    if not 0.0 <= moderate_share <= 1.0:
        raise ValueError(f"moderate_share must lie in [0, 1], got {moderate_share}")
    for kind in anomaly_kinds:
        if kind not in ANOMALY_KINDS:
            raise ValueError(f"anomaly kind {kind!r}: expected one of {', '.join(ANOMALY_KINDS)}")
    if days < 1 or step_s < 1 or 86_400 % step_s:
        raise ValueError(f"days must be ≥ 1 and step_s divide a day, got days={days}, step_s={step_s}")
    rng = np.random.default_rng(seed)
    specs = list(specs) if specs is not None else random_specs(lines, seed=seed)
    start_local = pd.Timestamp(start)
    start_local = (start_local.tz_convert(tz) if start_local.tzinfo else start_local.tz_localize(tz)).normalize()
    holiday_list = sorted(holidays) if holidays is not None else _holidays(start_local.tz_localize(None), days, rng)
    times_utc = pd.date_range(start_local.tz_convert("UTC"), start_local.tz_convert("UTC") + pd.Timedelta(days=days),
                              freq=f"{step_s}s", inclusive="left")
    local = times_utc.tz_convert(tz).tz_localize(None)
    origin = start_local.tz_localize(None)
    day_no = np.asarray((local.normalize() - origin).days)
    elapsed_days = np.asarray((local - origin) / pd.Timedelta(days=1), dtype=float)
    hour = np.asarray(local.hour + local.minute / 60.0 + local.second / 3600.0)
    rest = (np.asarray(local.day_of_week) >= 5) | np.isin(np.asarray(local.date), np.array(holiday_list, dtype=object))
    n_days = int(day_no.max()) + 1
    labels: list[AnomalyLabel] = []
    frames = []
    for spec in specs:
        expected, factor = _expected(spec, elapsed_days, hour, rest)
        wobble = rng.normal(0.0, spec.day_noise_pct, n_days)[day_no] * np.maximum(factor, 0.15)
        value = expected + wobble + rng.normal(0.0, spec.noise_pct, len(expected))
        count = int(rng.poisson(anomalies_per_line)) if anomalies_per_line > 0 else 0
        taken: list[tuple[int, int]] = []
        for _ in range(count):
            label = _inject(spec, value, expected, times_utc, local, rest, rng, anomaly_after_days, days, step_s,
                            list(anomaly_kinds), taken, moderate_share)
            if label is not None:
                labels.append(label)
        frames.append(pd.DataFrame({"line": spec.name, "time": times_utc, "value": np.clip(value, 0.0, 100.0),
                                    "expected": expected}))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["line", "time", "value",
                                                                                        "expected"])
    labels.sort(key=lambda a: (a.line, a.start))
    return History(frame=frame, specs=specs, anomalies=labels, holidays=list(holiday_list),
                   start=start_local.tz_convert("UTC"), days=days, step_s=step_s, tz=tz)


def _inject(spec, value, expected, times_utc, local, rest, rng, after_days, days, step_s, kinds, taken,
            moderate_share=0.0):
    """Apply one anomaly in place on ``value``; the label, or None when no free slot was found. The severity is
    drawn only when ``moderate_share`` > 0, so all-large histories keep their random stream."""
    per_day = 86_400 // step_s
    first = after_days * per_day
    if first >= len(value) - per_day:
        return None
    kind = kinds[int(rng.integers(0, len(kinds)))]
    moderate = moderate_share > 0 and bool(rng.random() < moderate_share)
    hours = np.asarray(local.hour)
    hour_s = 3600 // step_s
    for _ in range(50):  # look for a slot that fits the kind and does not overlap an earlier one
        if kind == "drop":  # during a busy weekday's office hours, 30 min to 6 h
            i = int(rng.integers(first, len(value) - per_day))
            if rest[i] or not 9 <= hours[i] <= 15:
                continue
            shortest = max(1, hour_s if moderate else 1800 // step_s)  # a lost LAG member is not back in minutes
            length = int(rng.integers(shortest, max(shortest + 1, 6 * hour_s)))
        elif kind == "surge":  # at night, 30 min to 3 h (moderate: a backup job, midnight to 4 am, 1 to 4 h)
            i = int(rng.integers(first, len(value) - per_day))
            if not (0 if moderate else 1) <= hours[i] <= 4:
                continue
            if moderate:
                length = int(rng.integers(max(1, hour_s), max(2, 4 * hour_s)))
            else:
                length = int(rng.integers(max(1, 1800 // step_s), max(2, 3 * 3600 // step_s)))
        else:  # level shift: from a random moment to the end
            i = int(rng.integers(first, len(value) - 7 * per_day)) if len(value) - 7 * per_day > first else first
            length = len(value) - i
        end = min(i + length, len(value))
        if any(i < b and a < end for a, b in taken):
            continue
        taken.append((i, end))
        if kind == "drop":
            keep = float(rng.uniform(0.5, 0.7) if moderate else rng.uniform(0.05, 0.4))
            magnitude = -(1.0 - keep) * float(np.mean(expected[i:end]))
            value[i:end] = value[i:end] * keep
        elif kind == "surge":
            magnitude = float(rng.uniform(20.0, 40.0) if moderate else rng.uniform(25.0, 60.0))
            value[i:end] = value[i:end] + magnitude
        else:
            low, high = (0.15, 0.3) if moderate else (0.3, 0.6)
            ratio = float(rng.choice([-1.0, 1.0]) * rng.uniform(low, high))  # traffic moved off or onto the line
            magnitude = ratio * float(np.mean(expected[i:end]))
            value[i:end] = value[i:end] + ratio * expected[i:end]
        return AnomalyLabel(line=spec.name, start=times_utc[i], end=times_utc[end - 1] + pd.Timedelta(seconds=step_s),
                            kind=kind, magnitude_pct=round(magnitude, 2),
                            severity="moderate" if moderate else "large")
    return None


def _expected(spec: LineSpec, elapsed_days: np.ndarray, hour: np.ndarray, rest: np.ndarray):
    """Noise-free utilization at each moment, and the shape factor (0 night .. 1 weekday peak)."""
    factor = np.where(rest, spec.weekend_factor, 1.0) * _shape(hour, spec.office)
    level = spec.level_pct(elapsed_days)
    return np.clip(spec.night_pct + (level - spec.night_pct) * factor, 0.0, 100.0), factor


def true_busy_hour(spec: LineSpec, *, start: pd.Timestamp | str, tz: str = "UTC", from_day: int, days: int,
                   holidays: Sequence[dt.date] = ()) -> pd.Series:
    """Noise-free busy-hour peak (highest hourly mean of 5-minute points) per local day, for ``days`` days from
    day number ``from_day`` since ``start`` — what ``daily_profile`` would give on anomaly-free, noise-free data."""
    start_ts = pd.Timestamp(start)
    start_local = (start_ts.tz_convert(tz) if start_ts.tzinfo else start_ts.tz_localize(tz)).normalize()
    origin = start_local.tz_localize(None)
    day_index = pd.date_range(origin + pd.Timedelta(days=from_day), periods=days, freq="D")
    minutes = np.arange(0, 1440, 5)
    elapsed = (np.arange(from_day, from_day + days)[:, None] + minutes[None, :] / 1440.0).ravel()
    hour = np.tile(minutes / 60.0, days)
    rest_day = (np.asarray(day_index.day_of_week) >= 5) | np.isin(np.asarray(day_index.date),
                                                                    np.array(list(holidays), dtype=object))
    expected, _ = _expected(spec, elapsed, hour, np.repeat(rest_day, len(minutes)))
    busy = expected.reshape(days, 24, 12).mean(axis=2).max(axis=1)
    return pd.Series(busy, index=day_index.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward"),
                     name=spec.name)


def true_crossing(spec: LineSpec, level_pct: float, *, start: pd.Timestamp | str, tz: str = "UTC",
                  from_day: int, horizon_days: int, holidays: Sequence[dt.date] = ()) -> dt.date | None:
    """The first local day in [``from_day``, ``from_day`` + ``horizon_days``) (day numbers since ``start``) whose
    noise-free busy-hour peak reaches ``level_pct`` — the date a perfect forecast would give — or None."""
    busy = true_busy_hour(spec, start=start, tz=tz, from_day=from_day, days=horizon_days, holidays=holidays)
    hit = np.flatnonzero(busy.to_numpy() >= level_pct)
    return None if len(hit) == 0 else busy.index[hit[0]].date()
