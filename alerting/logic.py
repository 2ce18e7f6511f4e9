"""Pure alert logic over query results: sustained thresholds with hysteresis, consecutive polls, no-data, and the
state machine (pending → firing → resolved). No I/O, no clock: every function takes the evaluation time.

A *bucket* is ``(start_s, mean_value | None)`` for one ``sample_s`` interval, oldest first; empty intervals are
either absent or ``None`` and are skipped (neither break nor extend a run) — a missed poll is the no-data rule's
business, not a reason to clear or fire a utilization alert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from alerting.config import BusinessHours, Thresholds
from linewatch.choices import AlertState, Severity

Bucket = tuple[int, float | None]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the data says about one rule × subject at one evaluation.

    ``severity``: the severity the alert should fire with now (``None``: condition not met). ``pending_since_s``:
    the condition holds since then but not long enough to fire. ``hold``: no usable data, keep the current state.
    """

    severity: Severity | None = None
    since_s: int | None = None
    pending_since_s: int | None = None
    value: float | None = None
    hold: bool = False
    detail: Mapping[str, Any] | None = None  # more figures for the message (stored in the alert's info)


HOLD = Verdict(hold=True)


def trailing_run_start(buckets: Sequence[Bucket], predicate: Callable[[float], bool]) -> int | None:
    """Start of the newest unbroken run of buckets whose value satisfies ``predicate`` (None if the newest fails)."""
    start: int | None = None
    for t, value in reversed(buckets):
        if value is None:
            continue
        if not predicate(value):
            break
        start = t
    return start


def latest_value(buckets: Sequence[Bucket]) -> float | None:
    for _, value in reversed(buckets):
        if value is not None:
            return value
    return None


def judge_threshold(buckets: Sequence[Bucket], th: Thresholds, *, end_s: int, firing: Severity | None) -> Verdict:
    """Sustained threshold with hysteresis.

    Fires ``critical`` / ``warning`` when every bucket of the last ``for_s`` is at or above that level. Once firing,
    it stays at its severity until the value falls below the clear level (``critical_clear`` for critical, ``clear``
    for warning) for ``clear_for_s`` (0: the latest bucket), so a line hovering around 80 % does not flap.
    """
    value = latest_value(buckets)
    if value is None:
        return HOLD
    if firing is None and value < th.warning:
        return Verdict(None, value=value)  # the common case, decided without looking further back

    def sustained(level: float | None) -> int | None:
        if level is None:
            return None
        since = trailing_run_start(buckets, lambda v: v >= level)
        if since is None or not th.sample_s:
            return since if since is not None and end_s - since >= th.for_s else None
        # The run lasts until the end of its newest bucket, not until now: samples followed by silence (a stalled
        # collector) do not grow into a sustained run. Missed polls inside the run are tolerated, but at least half
        # of ``for_s`` must be covered by real samples: one or two polls spread by gaps never fire.
        present = [t for t, v in buckets if v is not None and t >= since]
        covered_end = min(end_s, present[-1] + th.sample_s)
        if covered_end - since >= th.for_s and len(present) * th.sample_s * 2 >= th.for_s:
            return since
        return None

    def still_above(level: float) -> bool:
        """Not yet cleared: the latest value is above ``level``, or it has not been below for ``clear_for_s``."""
        if value >= level:
            return True
        below_since = trailing_run_start(buckets, lambda v: v < level)
        return below_since is not None and end_s - below_since < th.clear_for_s

    crit_since = sustained(th.critical)
    if crit_since is not None:
        return Verdict(Severity.CRITICAL, since_s=crit_since, value=value)
    warn_since = sustained(th.warning)
    if firing is Severity.CRITICAL and th.critical_clear is not None and still_above(th.critical_clear):
        return Verdict(Severity.CRITICAL, value=value)
    if firing is not None and still_above(th.clear):
        return Verdict(Severity.WARNING, since_s=warn_since, value=value)
    if warn_since is not None:
        return Verdict(Severity.WARNING, since_s=warn_since, value=value)
    pending = trailing_run_start(buckets, lambda v: v >= th.warning)
    return Verdict(None, pending_since_s=pending, value=value)


def judge_consecutive(bad_newest_first: Sequence[tuple[int, bool]], *, polls: int, severity: Severity) -> Verdict:
    """``polls`` consecutive bad samples fire; fewer are pending; a good newest sample clears.

    ``bad_newest_first``: ``(time_s, is_bad)`` of the newest samples, newest first (at least ``polls`` when present).
    """
    if not bad_newest_first:
        return HOLD
    run = 0
    since: int | None = None
    for t, bad in bad_newest_first:
        if not bad:
            break
        run += 1
        since = t
    if run >= polls:
        return Verdict(severity, since_s=since, value=float(run))
    return Verdict(None, pending_since_s=since, value=float(run))


MemberSamples = Sequence[tuple[int, bool]]  # one member's ``(time_s, is_bad)``, newest first


def _member_verdicts(members: Sequence[MemberSamples], polls: int, severity: Severity) -> list[Verdict]:
    return [judge_consecutive(m, polls=polls, severity=severity) for m in members if m]


def judge_all_members_down(members: Sequence[MemberSamples], *, polls: int, severity: Severity) -> Verdict:
    """A line carried by several interfaces is down only when **every** member is: it fires once each member
    has ``polls`` bad samples in a row (since the last member went down), is pending while every member's newest
    sample is bad, and one member with a good newest sample clears it. Members without samples are left out
    (no member with samples: hold). One member: :func:`judge_consecutive`."""
    verdicts = _member_verdicts(members, polls, severity)
    if not verdicts:
        return HOLD
    if len(verdicts) == 1:
        return verdicts[0]
    run = min(v.value or 0.0 for v in verdicts)
    if all(v.severity is not None for v in verdicts):
        return Verdict(severity, since_s=max(v.since_s or 0 for v in verdicts), value=run)
    starts = [v.since_s if v.severity is not None else v.pending_since_s for v in verdicts]
    if all(t is not None for t in starts):
        return Verdict(None, pending_since_s=max(t for t in starts if t is not None), value=run)
    return Verdict(None, value=run)


def judge_some_members_down(members: Sequence[MemberSamples], *, polls: int, severity: Severity) -> Verdict:
    """Some members of a multi-member line down for ``polls`` polls while at least one is not (a degraded LAG,
    the backup carrying the line): fires since the first of them went down, ``value`` = members down. All members
    down is :func:`judge_all_members_down`'s business (this clears); a single-member line never fires."""
    verdicts = _member_verdicts(members, polls, severity)
    if not verdicts:
        return HOLD
    down = [v for v in verdicts if v.severity is not None]
    if down and len(down) < len(verdicts):
        return Verdict(severity, since_s=min(v.since_s or 0 for v in down), value=float(len(down)))
    pending = [v.pending_since_s for v in verdicts if v.pending_since_s is not None]
    if not down and pending and len(pending) < len(verdicts):
        return Verdict(None, pending_since_s=min(pending), value=0.0)
    return Verdict(None, value=float(len(down)))


def judge_no_data(last_seen_s: int | None, *, end_s: int, after_s: float, lookback_s: int,
                  severity: Severity) -> Verdict:
    """Fire when the newest point is older than ``after_s`` (or absent from the whole ``lookback_s`` window)."""
    if last_seen_s is None:
        return Verdict(severity, since_s=end_s - lookback_s, value=float(lookback_s))
    age_s = end_s - last_seen_s
    if age_s >= after_s:
        return Verdict(severity, since_s=last_seen_s, value=float(age_s))
    return Verdict(None, value=float(age_s))


# -- voice trunks ---------------------------------------------------------------------------------------------------

WEEK_S = 7 * 86400
HOUR_S = 3600


def idle_filled(busy_by_bucket: Mapping[int, float], *, start_s: int, sample_s: int, scale: float) -> list[Bucket]:
    """Busy-channel buckets of a voice trunk (``scale`` × the busy count, oldest first) from ``start_s``.

    ``voice_trunk`` has a point only for minutes with calls, so a bucket without one is an **idle** trunk (0), not
    a missed poll — up to the newest bucket with data. Buckets after it are not known yet (the CDRs of calls still
    in progress arrive when they end) and are left out. No data in the whole window: one idle bucket at
    ``start_s`` (nothing was busy; a firing alert clears).
    """
    if not busy_by_bucket:
        return [(start_s, 0.0)]
    newest = max(busy_by_bucket)
    return [(t, busy_by_bucket.get(t, 0.0) * scale) for t in range(start_s, newest + 1, sample_s)]


def judge_level(value: float, th: Thresholds, *, end_s: int, firing: Severity | None) -> Verdict:
    """A count's levels with hysteresis: ``value`` (the latest figure, e.g. blocked calls per hour) alone decides
    (``judge_threshold`` over one bucket at ``end_s``)."""
    return judge_threshold([(end_s, value)], th, end_s=end_s, firing=firing)


def judge_calls(calls: Sequence[tuple[int, float]], *, min_calls: int, severity: Severity) -> Verdict:
    """``(minute_s, count)`` of suspicious calls (oldest first): ``min_calls`` or more fire at ``severity`` since
    the first minute with such calls; ``value`` is the count. No calls: a firing alert resolves."""
    count = sum(n for _, n in calls)
    if calls and count >= min_calls:
        return Verdict(severity, since_s=min(t for t, _ in calls), value=float(count))
    return Verdict(None, value=float(count))


def outside_hours(calls: Iterable[tuple[int, float]], hours: BusinessHours) -> list[tuple[int, float]]:
    """The ``(minute_s, count)`` of minutes starting outside the business hours (in their time zone)."""
    return [(t, n) for t, n in calls if n and not hours.contains(t)]


@dataclass(frozen=True, slots=True)
class CostBaseline:
    """The last hour's cost of a trunk and its baseline (mean cost of the same hour of the week)."""

    cost: float
    baseline: float | None  # None: no baseline week with data
    weeks: int  # baseline weeks with data


def cost_baseline(hourly: Sequence[tuple[int, float | None]], *, end_s: int, weeks: int) -> CostBaseline:
    """``hourly``: ``(bucket_start_s, summed cost)`` of one-hour buckets aligned to ``end_s`` (absent or ``None``:
    no point in that hour). The last hour is ``[end_s - 1 h, end_s)``; baseline week ``w`` (1..``weeks``) is the
    same hour ``w`` weeks earlier, counted (as 0 when it had no call) only if the trunk has some point in the week
    that starts with that hour — a week before the trunk existed is left out."""
    last = end_s - HOUR_S
    cost_at = {int(t): c or 0.0 for t, c in hourly}
    times = sorted(cost_at)
    values: list[float] = []
    for w in range(1, weeks + 1):
        hour = last - w * WEEK_S
        if any(hour <= t < hour + WEEK_S for t in times):
            values.append(cost_at.get(hour, 0.0))
    baseline = sum(values) / len(values) if values else None
    return CostBaseline(cost_at.get(last, 0.0), baseline, len(values))


def judge_cost_spike(figures: CostBaseline, *, factor: float, min_cost: float, severity: Severity,
                     now_s: int) -> Verdict:
    """Fires when the last hour cost more than ``factor`` × the baseline and at least ``min_cost``."""
    detail = {"baseline": figures.baseline, "baseline_weeks_seen": figures.weeks}
    if figures.baseline is None:
        return Verdict(None, value=figures.cost, detail=detail)
    if figures.cost >= min_cost and figures.cost > factor * figures.baseline:
        return Verdict(severity, since_s=now_s - HOUR_S, value=figures.cost, detail=detail)
    return Verdict(None, value=figures.cost, detail=detail)


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """The stored state of one alert (rule × subject); what the state machine reads and writes."""

    state: AlertState
    severity: Severity
    since_s: int
    value: float | None
    changed_s: int


def transition(prev: AlertStatus | None, verdict: Verdict, *, now_s: int,
               default_severity: Severity) -> tuple[AlertStatus | None, bool]:
    """Apply a verdict to the previous status; return ``(new status, state_changed)``.

    ``None`` as status means inactive (nothing stored). A state change is: entering pending, firing, a severity
    change while firing, resolving (from firing), or a pending condition clearing (→ inactive).
    """
    if verdict.hold:
        return prev, False
    active = prev is not None and prev.state in (AlertState.PENDING, AlertState.FIRING)
    if verdict.severity is not None:
        if prev is not None and prev.state is AlertState.FIRING and prev.severity is verdict.severity:
            return replace(prev, value=verdict.value), False
        since = verdict.since_s if verdict.since_s is not None else now_s
        if active and prev is not None:
            since = min(since, prev.since_s)
        return AlertStatus(AlertState.FIRING, verdict.severity, since, verdict.value, now_s), True
    if verdict.pending_since_s is not None and not (prev is not None and prev.state is AlertState.FIRING):
        if prev is not None and prev.state is AlertState.PENDING:
            return replace(prev, value=verdict.value), False
        return AlertStatus(AlertState.PENDING, default_severity, verdict.pending_since_s, verdict.value, now_s), True
    if prev is None or prev.state in (AlertState.RESOLVED, AlertState.INACTIVE):
        return prev, False
    if prev.state is AlertState.FIRING:
        return AlertStatus(AlertState.RESOLVED, prev.severity, now_s, verdict.value, now_s), True
    return AlertStatus(AlertState.INACTIVE, prev.severity, now_s, verdict.value, now_s), True
