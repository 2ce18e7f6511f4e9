"""Pure alert logic: sustained thresholds, hysteresis, consecutive polls, no-data, the state machine."""

from __future__ import annotations

import pytest

from alerting.config import Thresholds
from alerting.logic import AlertStatus, Verdict, judge_consecutive, judge_no_data, judge_threshold, transition
from linewatch.choices import AlertState, Severity

W, C = Severity.WARNING, Severity.CRITICAL
END = 10_000
# Production-like levels: warning 80, critical 95, clear 70, critical clears below 90; 5 minutes sustained.
TH = Thresholds.of(80, 95, 70, 90, for_s=300, clear_for_s=0)


def buckets(*values: float | None, step: int = 60) -> list[tuple[int, float | None]]:
    """Buckets ending at END, oldest first."""
    n = len(values)
    return [(END - (n - i) * step, v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "firing", "severity", "pending"),
    [
        ((50, 50, 100, 50, 50), None, None, False),  # single spike
        ((50, 50, 50, 50, 100), None, None, True),  # spike in the newest bucket: pending, not firing
        ((81, 85, 90, 82, 84), None, W, False),  # 5 minutes ≥ 80
        ((50, 85, 90, 82, 84), None, None, True),  # 4 minutes ≥ 80: pending
        ((96, 97, 99, 96, 98), None, C, False),  # 5 minutes ≥ 95
        ((85, 97, 99, 96, 98), None, W, False),  # 4 minutes ≥ 95 but 5 ≥ 80: warning
        ((85, 80, None, 82, 84), None, W, False),  # a missed poll neither breaks nor clears
        ((85, 85, 85, 85, 75), W, W, False),  # hysteresis: 75 is above clear 70, stays warning
        ((85, 85, 85, 85, 69), W, None, False),  # below clear: resolved
        ((85, 85, 85, 85, 92), C, C, False),  # critical holds above critical_clear 90
        ((85, 85, 85, 85, 85), C, W, False),  # critical falls back to warning below 90
        ((79, 81, 79, 81, 79), None, None, False),  # hovering around 80 never fires
        ((79, 81, 79, 81, 79), W, W, False),  # ... and once firing never flaps
        ((None, None), None, None, False),  # no data: hold
    ],
    ids=["single-spike-does-not-fire", "newest-spike-is-pending", "sustained-warning-fires",
         "four-minutes-is-pending", "sustained-critical-fires", "short-critical-is-warning", "missed-poll-ignored",
         "hysteresis-keeps-warning", "below-clear-resolves", "critical-holds-above-critical-clear",
         "critical-downgrades-to-warning", "hovering-never-fires", "hovering-never-flaps", "no-data-holds"],
)
def test_sustained_threshold(values: tuple[float | None, ...], firing: Severity | None, severity: Severity | None,
                             pending: bool) -> None:
    verdict = judge_threshold(buckets(*values), TH, end_s=END, firing=firing)
    if all(v is None for v in values):
        assert verdict.hold
        return
    assert verdict.severity is severity
    assert (verdict.pending_since_s is not None) is pending


def test_sustained_since_is_the_start_of_the_run() -> None:
    verdict = judge_threshold(buckets(10, 81, 85, 90, 82, 84), TH, end_s=END, firing=None)
    assert verdict.since_s == END - 300
    assert verdict.value == 84


@pytest.mark.parametrize(
    ("values", "severity"),
    [((85, 85, 69, 69), W), ((85, 69, 69, 69), None)],
    ids=["below-clear-too-short-keeps-firing", "below-clear-long-enough-resolves"],
)
def test_clear_for_s_delays_resolution(values: tuple[float, ...], severity: Severity | None) -> None:
    th = Thresholds.of(80, None, 70, None, for_s=60, clear_for_s=180)
    assert judge_threshold(buckets(*values), th, end_s=END, firing=W).severity is severity


@pytest.mark.parametrize(
    ("samples", "severity", "pending"),
    [
        ([(30, True), (20, True), (10, True)], C, False),
        ([(30, True), (20, True), (10, False)], None, True),
        ([(30, False), (20, True), (10, True)], None, False),
        ([(30, True)], None, True),
        ([], None, False),
    ],
    ids=["three-bad-polls-fire", "two-bad-polls-pending", "good-newest-clears", "one-poll-pending", "no-polls-hold"],
)
def test_consecutive_polls(samples: list[tuple[int, bool]], severity: Severity | None, pending: bool) -> None:
    verdict = judge_consecutive(samples, polls=3, severity=C)
    assert verdict.severity is severity
    assert (verdict.pending_since_s is not None) is pending
    assert verdict.hold is (not samples)


@pytest.mark.parametrize(
    ("last_seen", "fires", "since"),
    [(END - 60, False, None), (END - 600, True, END - 600), (None, True, END - 3600)],
    ids=["recent-point-ok", "stale-point-fires", "absent-from-window-fires"],
)
def test_no_data(last_seen: int | None, fires: bool, since: int | None) -> None:
    verdict = judge_no_data(last_seen, end_s=END, after_s=600, lookback_s=3600, severity=W)
    assert (verdict.severity is W) is fires
    assert verdict.since_s == since


def _st(state: AlertState, severity: Severity = W, since: int = 100) -> AlertStatus:
    return AlertStatus(state, severity, since, 1.0, since)


@pytest.mark.parametrize(
    ("prev", "verdict", "state", "changed"),
    [
        (None, Verdict(W, since_s=50), AlertState.FIRING, True),
        (None, Verdict(None, pending_since_s=50), AlertState.PENDING, True),
        (_st(AlertState.PENDING), Verdict(None, pending_since_s=100), AlertState.PENDING, False),
        (_st(AlertState.PENDING), Verdict(W, since_s=120), AlertState.FIRING, True),
        (_st(AlertState.PENDING), Verdict(None), AlertState.INACTIVE, True),
        (_st(AlertState.FIRING), Verdict(W, value=2.0), AlertState.FIRING, False),
        (_st(AlertState.FIRING), Verdict(C), AlertState.FIRING, True),
        (_st(AlertState.FIRING), Verdict(None), AlertState.RESOLVED, True),
        (_st(AlertState.FIRING), Verdict(hold=True), AlertState.FIRING, False),
        (_st(AlertState.RESOLVED), Verdict(None), AlertState.RESOLVED, False),
        (None, Verdict(None), None, False),
    ],
    ids=["new-firing", "new-pending", "pending-stays", "pending-fires", "pending-clears-to-inactive",
         "firing-value-update-is-no-change", "severity-change-is-a-change", "firing-resolves", "hold-keeps-firing",
         "resolved-stays", "nothing-stays-nothing"],
)
def test_transition(prev: AlertStatus | None, verdict: Verdict, state: AlertState | None, changed: bool) -> None:
    new, is_change = transition(prev, verdict, now_s=200, default_severity=W)
    assert (new.state if new is not None else None) is state
    assert is_change is changed


def test_firing_keeps_the_pending_start_as_since() -> None:
    new, _ = transition(_st(AlertState.PENDING, since=100), Verdict(W, since_s=150), now_s=200, default_severity=W)
    assert new is not None and new.since_s == 100


TH_60 = Thresholds.of(80, 95, 70, 90, for_s=300, clear_for_s=0, sample_s=60)


@pytest.mark.parametrize(
    ("values", "severity", "pending"),
    [
        ((100, None, None, None, None, None), None, True),
        ((100, None, None, None, None, 100), None, True),
        ((85, None, 85, None, 85, 85), W, False),
        ((None, 85, 85, 85, 85, None), None, True),
        ((85, 85, 85, 85, 85, 85), W, False),
        ((85, 85, None, 85, 85, 85), W, False),
    ],
    ids=["one-poll-then-silence-does-not-fire", "two-polls-spread-by-gaps-do-not-fire",
         "half-the-polls-missed-still-fires", "run-ends-with-its-newest-sample", "six-polls-fire",
         "one-missed-poll-fires"],
)
def test_sustained_needs_real_samples_not_gaps(values: tuple[float | None, ...], severity: Severity | None,
                                               pending: bool) -> None:
    """Regression: a single 100 % poll followed by silence used to fire critical once ``for_s`` had passed."""
    verdict = judge_threshold(buckets(*values), TH_60, end_s=END, firing=None)
    assert verdict.severity is severity
    assert (verdict.pending_since_s is not None) is pending


def test_one_bucket_as_long_as_for_s_fires_on_the_plain_average() -> None:
    """sample_s == for_s: the rule fires on the plain 5-minute average (95, 95, 60, 95, 95 → 88 %)."""
    th = Thresholds.of(80, 95, 70, 90, for_s=300, clear_for_s=0, sample_s=300)
    assert judge_threshold([(END - 300, 88.0)], th, end_s=END, firing=None).severity is W
