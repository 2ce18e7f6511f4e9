"""Forecast accuracy backtest: our busy-hour forecast against the linear baseline on generated lines.

Data: ``BENCH_FORECAST_LINES`` (default 150) lines from ``bench.history_gen.random_specs`` (seeded mix: growing
office lines, flat, shrinking, 24/7 and idle ones; growth, weekend level, noise drawn per line), 5-minute samples
over ``FIT_DAYS`` (91, TrendsSettings.history_days) + ``HORIZON_DAYS`` (120) days with holidays. Each method is
fitted on the daily busy-hour series (``daily_profile``) of the first 91 days and judged on the 120 after them
against the noise-free truth (``history_gen.true_busy_hour``, what a perfect forecast would give).

Figure: the mean absolute error in days of the 80 %-crossing date over the lines where the truth or the forecast
crosses within the horizon (a crossing missed or invented counts as the distance to the day after the horizon),
and, beside it, the mean absolute error in points of the values 1–30 days ahead. Ours is the default method
(``TrendsSettings.method``); the other seasonal method and the 95 % crossing are printed on ``#`` lines. Reference:
the linear baseline (least squares straight line, ``predict_linear``-style) on the same series in the same run.
Ratio = ours / linear of the crossing-date error (target ≤ 0.5).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from bench.history_gen import generate, random_specs, true_busy_hour
from linewatch.choices import ForecastMethod
from linewatch.settings import TrendsSettings
from linewatch.trends.forecast import crossing, fit_forecast
from linewatch.trends.series import daily_profile

LINES = int(os.environ.get("BENCH_FORECAST_LINES", "150"))
FIT_DAYS = 91
HORIZON_DAYS = 120
AHEAD_DAYS = 30
LEVELS_PCT = (80.0, 95.0)
SEED = 14


@dataclass
class Score:
    """Errors of one method over all lines."""

    crossing_days: dict[float, list[float]] = field(default_factory=lambda: {lvl: [] for lvl in LEVELS_PCT})
    missed: dict[float, int] = field(default_factory=lambda: dict.fromkeys(LEVELS_PCT, 0))
    invented: dict[float, int] = field(default_factory=lambda: dict.fromkeys(LEVELS_PCT, 0))
    ahead_abs_pct: list[float] = field(default_factory=list)
    fit_s: float = 0.0

    def crossing_error(self, level: float) -> float:
        return float(np.mean(self.crossing_days[level])) if self.crossing_days[level] else float("nan")

    def ahead_mae(self) -> float:
        return float(np.mean(self.ahead_abs_pct))


def crossing_error_days(found, truth, first_day) -> tuple[float | None, str]:
    """Absolute error in days (None: neither crosses) and what went wrong (``missed``, ``invented`` or ``''``)."""
    if found is None and truth is None:
        return None, ""
    beyond = HORIZON_DAYS  # day number (from the first forecast day) of the day after the horizon
    f = beyond if found is None else (found - first_day).days
    t = beyond if truth is None else (truth - first_day).days
    return float(abs(f - t)), "missed" if found is None else "invented" if truth is None else ""


def main() -> None:
    ours = TrendsSettings().method
    methods = [ForecastMethod.ROBUST_SEASONAL, ForecastMethod.HOLT_WINTERS, ForecastMethod.LINEAR]
    scores = {m: Score() for m in methods}
    t0 = time.perf_counter()
    specs = random_specs(LINES, seed=SEED)
    crossing_lines = 0
    for i, spec in enumerate(specs):  # one line at a time: 211 days of 5-minute samples each
        history = generate(specs=[spec], days=FIT_DAYS + HORIZON_DAYS, step_s=300, seed=SEED * 1000 + i)
        busy = daily_profile(history.series(spec.name))["busy_hour_pct"]
        fit = busy.iloc[:FIT_DAYS]
        truth = true_busy_hour(spec, start=history.start, tz=history.tz, from_day=FIT_DAYS, days=HORIZON_DAYS,
                               holidays=history.holidays)
        first_day = truth.index[0].date()
        true_dates = {}
        for level in LEVELS_PCT:
            hit = np.flatnonzero(truth.to_numpy() >= level)
            true_dates[level] = None if len(hit) == 0 else truth.index[hit[0]].date()
        crossing_lines += true_dates[80.0] is not None
        for method in methods:
            t = time.perf_counter()
            forecast = fit_forecast(fit, method=method, horizon_days=HORIZON_DAYS)
            score = scores[method]
            score.fit_s += time.perf_counter() - t
            ahead = forecast.frame["value_pct"].to_numpy()[:AHEAD_DAYS]
            score.ahead_abs_pct.extend(np.abs(ahead - truth.to_numpy()[:AHEAD_DAYS]).tolist())
            for level in LEVELS_PCT:
                error, kind = crossing_error_days(crossing(forecast, level).date, true_dates[level], first_day)
                if error is not None:
                    score.crossing_days[level].append(error)
                if kind == "missed":
                    score.missed[level] += 1
                elif kind == "invented":
                    score.invented[level] += 1
    total_s = time.perf_counter() - t0
    print(f"# {LINES} generated lines (seed {SEED}), {FIT_DAYS} days fitted, {HORIZON_DAYS} days judged, "
          f"{crossing_lines} truly cross 80 % within the horizon; {total_s:.0f} s")
    for method in methods:
        s = scores[method]
        print(f"# {method.value:16s} 80 %: {s.crossing_error(80.0):5.1f} days "
              f"(missed {s.missed[80.0]}, invented {s.invented[80.0]}), "
              f"95 %: {s.crossing_error(95.0):5.1f} days (missed {s.missed[95.0]}, invented {s.invented[95.0]}), "
              f"{AHEAD_DAYS}-day MAE {s.ahead_mae():.2f} pts, fit {1000 * s.fit_s / LINES:.0f} ms/line")
    mine, base = scores[ours], scores[ForecastMethod.LINEAR]
    print(f"bench forecast-accuracy: 80 %-crossing error {mine.crossing_error(80.0):.1f} days, "
          f"{AHEAD_DAYS}-day MAE {mine.ahead_mae():.2f} pts ({ours.value}) | "
          f"linear baseline: {base.crossing_error(80.0):.1f} days, {base.ahead_mae():.2f} pts | "
          f"ratio {mine.crossing_error(80.0) / base.crossing_error(80.0):.2f}")


if __name__ == "__main__":
    main()
