"""Judging final acceptance and change verification from measured figures: pure functions, no I/O.

The queries (``web.orders.acceptance``, ``web.orders.verification``) read InfluxDB and hand these functions plain
rows: one :class:`PollPoint` per member point of ``line_traffic`` and one :class:`TrafficBucket` per bucket (the
members' sum, docs/schema.md). What is judged, and why, is in docs/acceptance.md.

Every finding has a stable code (:class:`linewatch.choices.AcceptanceFinding`), its figures as text parameters and
the English sentence; the web translates ``FINDING_TEXT[code] % params`` (the templates are marked for gettext).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import Field

from linewatch.choices import AcceptanceFinding, LineMemberRole, OperStatus
from linewatch.settings import AcceptanceSettings, Settings

F = AcceptanceFinding


def gettext_noop(message: str) -> str:
    """Marks a template for ``makemessages`` (its default keyword) without needing Django's settings: the collector
    rig imports this module outside Django."""
    return message


# English templates of every finding, %(name)s filled from Finding.params (already formatted figures).
FINDING_TEXT: dict[AcceptanceFinding, str] = {
    F.NO_DATA: gettext_noop("no data: not one poll of the line arrived in the window"),
    F.DOWNTIME: gettext_noop("down on %(down)s of %(expected)s polls (%(uptime_pct)s %% up, needs "
                             "%(min_uptime_pct)s %%), %(missed)s of them without data"),
    F.ERRORS: gettext_noop("errors: peak %(peak)s/s %(field)s, allowed %(allowed)s"),
    F.NO_TRAFFIC: gettext_noop("no traffic: %(share_pct)s %% of %(bucket_min)s-minute buckets above "
                               "%(threshold)s, needs %(min_share_pct)s %%"),
    F.PORT_SPEED: gettext_noop("port speed: %(port)s is %(speed)s, below the new capacity %(capacity)s"),
    F.NOT_YET_OBSERVED: gettext_noop("not yet observed: traffic has not exceeded the old capacity %(old)s "
                                     "(peak %(peak)s)"),
    F.NOT_EXCEEDED: gettext_noop("traffic never exceeded the old capacity %(old)s in the window (peak %(peak)s): "
                                 "passed on the port speed"),
}

ERROR_FIELDS = ("in_errors_ps", "out_errors_ps")
DISCARD_FIELDS = ("in_discards_ps", "out_discards_ps")
RATE_FIELDS = ERROR_FIELDS + DISCARD_FIELDS

Figures = dict[str, float | int]


class AcceptanceCriteria(AcceptanceSettings):
    """``orders.acceptance`` plus the poll interval the expected polls are counted from (``collector.interval_s``)."""

    poll_interval_s: float = Field(default=60.0, ge=1, le=3600)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(**settings.orders.acceptance.model_dump(), poll_interval_s=settings.collector.interval_s)


@dataclass(frozen=True)
class Finding:
    """One thing a check found: ``code``, its figures as text and the English sentence."""

    code: AcceptanceFinding
    params: dict[str, str]

    @property
    def text(self) -> str:
        return FINDING_TEXT[self.code] % self.params


def finding_text(stored: Mapping[str, Any], translate: Callable[[str], str] = str) -> str:
    """The sentence of a stored finding (an item of ``as_json()["findings"]``) in the language ``translate`` gives,
    e.g. ``finding_text(f, gettext)`` on a page; an unknown code keeps its stored English text."""
    try:
        template = FINDING_TEXT[AcceptanceFinding(stored["code"])]
    except (KeyError, ValueError):
        return str(stored.get("text", ""))
    return translate(template) % stored.get("params", {})


def _finding(code: AcceptanceFinding, **params: object) -> Finding:
    return Finding(code, {k: str(v) for k, v in params.items()})


@dataclass(frozen=True)
class CheckResult:
    """What acceptance and verification results share: the verdict, the figures and the findings."""

    figures: Figures
    problems: tuple[Finding, ...] = ()
    remarks: tuple[Finding, ...] = ()
    passed: bool | None = None

    @property
    def failures(self) -> list[str]:
        return [f.text for f in self.problems]

    @property
    def failure_codes(self) -> list[str]:
        return [f.code.value for f in self.problems]

    @property
    def notes(self) -> list[str]:
        return [f.text for f in self.remarks]

    @property
    def note_codes(self) -> list[str]:
        return [f.code.value for f in self.remarks]

    def as_json(self) -> dict[str, Any]:
        """Everything as JSON-ready data, to store on the order (the findings with their params, to translate)."""
        return {
            "passed": self.passed,
            "figures": dict(self.figures),
            "failures": self.failures,
            "failure_codes": self.failure_codes,
            "notes": self.notes,
            "note_codes": self.note_codes,
            "findings": [{"code": f.code.value, "params": f.params, "text": f.text, "failure": f in self.problems}
                         for f in (*self.problems, *self.remarks)],
        }


@dataclass(frozen=True)
class AcceptanceResult(CheckResult):
    passed: bool = False


@dataclass(frozen=True)
class VerificationResult(CheckResult):
    passed: bool | None = None  # None: not yet observable (no data yet, or the traffic has not shown it yet)


@dataclass(frozen=True)
class PollPoint:
    """One member point of ``line_traffic``: a poll of one interface."""

    time_s: float
    member: tuple[str, str]  # (device, interface)
    oper_status: int | None = None
    admin_status: int | None = None
    interval_s: float | None = None
    rates: Mapping[str, float] = field(default_factory=dict)  # the *_errors_ps / *_discards_ps present

    @property
    def up(self) -> bool:
        return self.oper_status == OperStatus.UP and self.admin_status == OperStatus.UP


@dataclass(frozen=True)
class TrafficBucket:
    """A bucket's traffic: the sum over the members of each member's mean (docs/schema.md)."""

    start_s: float
    in_bps: float = 0.0
    out_bps: float = 0.0

    @property
    def bps(self) -> float:
        """The busier direction."""
        return max(self.in_bps, self.out_bps)


# ---- formatting (figures in sentences)


def format_bps(value: float) -> str:
    """``1 kbit/s``, ``12.5 Mbit/s``: three significant digits."""
    for unit, div in (("Tbit/s", 1e12), ("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if abs(value) >= div:
            return f"{value / div:.3g} {unit}"
    return f"{value:.3g} bit/s"


def _pct(value: float) -> str:
    return f"{value:.2f}"


def _num(value: float) -> str:
    return f"{value:g}"


# ---- acceptance


def expected_polls(*, start_s: float, end_s: float, poll_interval_s: float) -> int:
    """Polls a line polled every ``poll_interval_s`` gets within ``[start_s, end_s)`` (at least 1)."""
    return max(1, math.floor((end_s - start_s) / poll_interval_s + 1e-9))


def poll_slots(points: Iterable[PollPoint], *, poll_interval_s: float) -> dict[int, list[PollPoint]]:
    """The points grouped into polls: slot ``k`` holds the points nearest ``first + k × poll_interval_s``, so the
    members of one cycle share a slot and jitter below half an interval does not move a poll."""
    pts = sorted(points, key=lambda p: p.time_s)
    if not pts:
        return {}
    t0 = pts[0].time_s
    slots: dict[int, list[PollPoint]] = {}
    for p in pts:
        slots.setdefault(round((p.time_s - t0) / poll_interval_s), []).append(p)
    return slots


def judge_uptime(slots: Mapping[int, Sequence[PollPoint]], *, expected: int,
                 criteria: AcceptanceCriteria) -> tuple[Figures, list[Finding]]:
    """A poll is up when any member is oper up while admin up (LineHealth); a missing poll is not up."""
    seen = min(len(slots), expected)
    up = min(sum(any(p.up for p in pts) for pts in slots.values()), expected)
    uptime_pct = 100.0 * up / expected
    figures: Figures = {"samples": seen, "expected_samples": expected, "polls_up": up, "polls_down": expected - up,
                        "polls_missed": expected - seen, "uptime_pct": round(uptime_pct, 4)}
    if uptime_pct + 1e-9 < criteria.min_uptime_pct:
        return figures, [_finding(F.DOWNTIME, down=expected - up, expected=expected, uptime_pct=_pct(uptime_pct),
                                  min_uptime_pct=_num(criteria.min_uptime_pct), missed=expected - seen)]
    return figures, []


def judge_errors(slots: Mapping[int, Sequence[PollPoint]], *,
                 criteria: AcceptanceCriteria) -> tuple[Figures, list[Finding]]:
    """Per poll the members' rates summed (a line's value is its members' sum); the peak of each field is judged."""
    peaks = dict.fromkeys(RATE_FIELDS, 0.0)
    totals = dict.fromkeys(RATE_FIELDS, 0.0)
    for pts in slots.values():
        for name in RATE_FIELDS:
            peaks[name] = max(peaks[name], sum(p.rates.get(name, 0.0) for p in pts))
            totals[name] += sum(p.rates.get(name, 0.0) * (p.interval_s or 0.0) for p in pts)
    figures: Figures = {f"max_{name}": round(v, 6) for name, v in peaks.items()}
    figures |= {
        "max_errors_ps": round(max(peaks[n] for n in ERROR_FIELDS), 6),
        "total_errors": round(sum(totals[n] for n in ERROR_FIELDS)),
        "max_discards_ps": round(max(peaks[n] for n in DISCARD_FIELDS), 6),
        "total_discards": round(sum(totals[n] for n in DISCARD_FIELDS)),
    }
    worst = max(ERROR_FIELDS, key=lambda n: peaks[n])
    if peaks[worst] > criteria.max_errors_ps:
        return figures, [_finding(F.ERRORS, peak=f"{peaks[worst]:.3g}", field=worst,
                                  allowed=_num(criteria.max_errors_ps))]
    return figures, []


def judge_traffic(buckets: Sequence[TrafficBucket], *, start_s: float, end_s: float,
                  criteria: AcceptanceCriteria) -> tuple[Figures, list[Finding]]:
    """The share of the window's buckets whose traffic (busier direction) reaches ``min_mean_bps``; a bucket
    without data carries nothing."""
    expected = max(1, math.ceil((end_s - start_s) / criteria.traffic_bucket_s - 1e-9))
    carrying = min(sum(b.bps >= criteria.min_mean_bps for b in buckets), expected)
    share_pct = 100.0 * carrying / expected
    n = len(buckets)
    figures: Figures = {
        "traffic_buckets": n, "expected_traffic_buckets": expected, "traffic_buckets_carrying": carrying,
        "traffic_share_pct": round(share_pct, 4),
        "mean_bps": round(sum(b.bps for b in buckets) / n, 3) if n else 0.0,
        "peak_bps": round(max((b.bps for b in buckets), default=0.0), 3),
        "mean_in_bps": round(sum(b.in_bps for b in buckets) / n, 3) if n else 0.0,
        "mean_out_bps": round(sum(b.out_bps for b in buckets) / n, 3) if n else 0.0,
    }
    if share_pct + 1e-9 < criteria.min_traffic_share_pct:
        return figures, [_finding(F.NO_TRAFFIC, share_pct=f"{share_pct:.0f}",
                                  bucket_min=_num(criteria.traffic_bucket_s / 60),
                                  threshold=format_bps(criteria.min_mean_bps),
                                  min_share_pct=_num(criteria.min_traffic_share_pct))]
    return figures, []


def judge_acceptance(points: Iterable[PollPoint], buckets: Sequence[TrafficBucket], *, start_s: float,
                     end_s: float, criteria: AcceptanceCriteria) -> AcceptanceResult:
    """Passed when the line was up on enough polls, error-free enough and carried traffic in enough buckets."""
    expected = expected_polls(start_s=start_s, end_s=end_s, poll_interval_s=criteria.poll_interval_s)
    pts = list(points)
    figures: Figures = {"start_s": start_s, "end_s": end_s, "window_s": end_s - start_s,
                        "poll_interval_s": criteria.poll_interval_s,
                        "members": len({p.member for p in pts})}
    slots = poll_slots(pts, poll_interval_s=criteria.poll_interval_s)
    problems: list[Finding] = []
    if not slots:
        problems.append(_finding(F.NO_DATA))
    for part, found in (judge_uptime(slots, expected=expected, criteria=criteria),
                        judge_errors(slots, criteria=criteria),
                        judge_traffic(buckets, start_s=start_s, end_s=end_s, criteria=criteria)):
        figures |= part
        if slots:
            problems += found
    return AcceptanceResult(figures=figures, problems=tuple(problems), passed=not problems)


# ---- change verification


def required_speed_groups(roles: Mapping[tuple[str, str], LineMemberRole]) -> list[tuple[tuple[str, str], ...]]:
    """The member groups whose port speed must reach the new capacity: a LAG (several members of role
    ``member``) carries the line together, so its members count summed; a primary or a backup carries it alone."""
    lag = tuple(m for m, role in roles.items() if role is LineMemberRole.MEMBER)
    alone = [(m,) for m, role in roles.items() if role is not LineMemberRole.MEMBER]
    return ([lag] if lag else []) + alone


def judge_change(speeds: Mapping[tuple[str, str], int], buckets: Sequence[TrafficBucket], *,
                 roles: Mapping[tuple[str, str], LineMemberRole], old_capacity_bps: int, new_capacity_bps: int,
                 window_ended: bool) -> VerificationResult:
    """``speeds``: the last ``port_speed_bps`` of each member seen since the change. An upgrade (or a change at the
    same capacity) needs the ports to reach the new capacity; a downgrade passes on speed. An upgrade is confirmed
    once a bucket's traffic exceeds the old capacity; until then it is not yet observed, and when the window ends
    without it the change passes on the port speed with a note (the carrier delivered; the demand has not come)."""
    peak = max((b.bps for b in buckets), default=0.0)
    figures: Figures = {
        "old_capacity_bps": old_capacity_bps, "new_capacity_bps": new_capacity_bps,
        "peak_bps": round(peak, 3), "traffic_buckets": len(buckets),
        "members_seen": len(speeds), "min_port_speed_bps": min(speeds.values(), default=0),
        "exceeded_old_capacity": int(peak > old_capacity_bps),
    }
    if not speeds:
        if window_ended:
            return VerificationResult(figures=figures, problems=(_finding(F.NO_DATA),),
                                      passed=False)
        return VerificationResult(figures=figures, remarks=(_finding(F.NO_DATA),), passed=None)
    problems = []
    if new_capacity_bps >= old_capacity_bps:
        for group in required_speed_groups({m: r for m, r in roles.items() if m in speeds}):
            total = sum(speeds[m] for m in group)
            if total < new_capacity_bps:
                problems.append(_finding(F.PORT_SPEED, port=" + ".join(f"{d} {i}" for d, i in group),
                                         speed=format_bps(total), capacity=format_bps(new_capacity_bps)))
    if problems:
        return VerificationResult(figures=figures, problems=tuple(problems), passed=False)
    if new_capacity_bps <= old_capacity_bps or peak > old_capacity_bps:
        return VerificationResult(figures=figures, passed=True)
    if window_ended:
        return VerificationResult(figures=figures, passed=True, remarks=(
            _finding(F.NOT_EXCEEDED, old=format_bps(old_capacity_bps), peak=format_bps(peak)),))
    return VerificationResult(figures=figures, passed=None, remarks=(
        _finding(F.NOT_YET_OBSERVED, old=format_bps(old_capacity_bps), peak=format_bps(peak)),))
