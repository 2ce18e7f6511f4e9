"""Rule queries and their interpretation: one InfluxQL query per rule for every line (``GROUP BY "line"``), then
pure per-subject verdicts (``alerting.logic``).

Queries use explicit epoch bounds from the evaluation time (nanosecond integers), plain ``SELECT`` with ``mean``,
``sum``, ``last``, ``ORDER BY time DESC LIMIT n``, ``GROUP BY time(...), "line"`` and one subquery — InfluxQL that
InfluxDB 1.x, the v1 API of 2.x and 3.x all answer.

A line may be carried by several interfaces (docs/schema.md: one ``line_traffic`` series per member, tagged
``device`` and ``interface``). Its value in a bucket is the **sum over its members** of each member's mean in that
bucket (traffic, error rates): the subquery averages per member, the outer query sums per line. For a single-member
line that sum is the plain per-line mean, which InfluxDB 1.x answers far faster than the subquery (bench
alert-eval), so the sustained rules send the plain statement for the lines with one member in the inventory and the
member-sum statement for the others (a line filter each; one statement when every line has one member).
``line_down`` fires when **every** member of the line is down; ``member_down`` warns when some but not all are (a
degraded LAG, a backup carrying the line).

Utilization is not read from the stored ``*_util_pct``: each bucket's summed ``in_bps``/``out_bps`` is divided by
the line's capacity at the bucket's time (``Line.capacity_at``), so the thresholds switch at a capacity change's
``effective`` moment even when the collector still wrote utilization against the old capacity (its inventory
refreshed late).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import quote

from alerting.config import TREND_RULE_KINDS, VOICE_RULE_KINDS, AlertsConfig, Thresholds
from alerting.logic import (
    HOLD,
    HOUR_S,
    WEEK_S,
    Bucket,
    Verdict,
    cost_baseline,
    idle_filled,
    judge_all_members_down,
    judge_calls,
    judge_consecutive,
    judge_cost_spike,
    judge_level,
    judge_no_data,
    judge_some_members_down,
    judge_threshold,
    outside_hours,
)
from alerting.trend_rules import (
    NOISE_WINDOW_S,
    Baseline,
    anomaly_verdicts,
    baseline_due,
    baseline_read_window,
    build_baseline,
    forecast_statement,
    judge_forecast,
    outlook_rows,
    utilization_frame,
)
from linewatch.choices import AlertRuleKind, AlertScope, LineType, OperStatus, Severity
from linewatch.influx.influxql import exact_regex
from linewatch.inventory import Inventory, Line
from linewatch.settings import GrafanaSettings

NS = 1_000_000_000
MEMBER_TAGS = '"line", "device", "interface"'  # one series per member interface of a line
SUSTAINED_KINDS = (AlertRuleKind.UTILIZATION, AlertRuleKind.ERROR_RATE, AlertRuleKind.CHANNEL_UTILIZATION)


@dataclass(frozen=True, slots=True)
class Subject:
    """A line or device an alert can be about: its labels (for routing) and facts for the message."""

    name: str
    scope: AlertScope
    labels: Mapping[str, str]
    info: Mapping[str, Any] = field(default_factory=dict)
    line: Line | None = None


def grafana_url(grafana: GrafanaSettings, *, line: str | None = None, device: str | None = None) -> str:
    base = grafana.base_url.rstrip("/")
    var = f"var-line={quote(line)}" if line is not None else f"var-device={quote(device or '')}"
    return f"{base}/d/{quote(grafana.line_dashboard_uid)}?{var}"


def build_subjects(inventory: Inventory, grafana: GrafanaSettings) -> tuple[dict[str, Subject], dict[str, Subject]]:
    """Active lines, and the devices that carry at least one active line (only those are alerted on)."""
    lines: dict[str, Subject] = {}
    per_device: dict[str, list[Line]] = {}
    for line in inventory.lines:
        if not line.status.monitored:
            continue
        tags = line.tags()
        labels = {**tags, "scope": AlertScope.LINE.value}
        info = {"circuit_id": line.circuit_id, "description": line.description,
                "interface": ", ".join(m.interface_label for m in line.members),
                "grafana_url": grafana_url(grafana, line=line.id)}
        lines[line.id] = Subject(line.id, AlertScope.LINE, labels, info, line)
        for device_name in line.devices:
            per_device.setdefault(device_name, []).append(line)
    devices: dict[str, Subject] = {}
    for name, dev_lines in per_device.items():
        device = inventory.devices_by_name.get(name)

        def joined(attr: str, lines_: list[Line] = dev_lines) -> str:
            return ",".join(sorted({str(getattr(x, attr)) for x in lines_}))

        site = device.site if device is not None and device.site else joined("site")
        labels = {"line": name, "device": name, "department": joined("department"), "site": site,
                  "carrier": joined("carrier"), "line_type": "", "scope": AlertScope.DEVICE.value}
        info = {"lines": [x.id for x in dev_lines], "address": device.address if device else "",
                "grafana_url": grafana_url(grafana, device=name)}
        devices[name] = Subject(name, AlertScope.DEVICE, labels, info)
    return lines, devices


def _max_present(row: Sequence[Any]) -> float | None:
    """The largest non-null value of a result row after its time column (in or out, whichever is higher)."""
    best = None
    for v in row[1:]:
        if v is not None and (best is None or v > best):
            best = v
    return best


def _utilization_buckets(rows: Sequence[Sequence[Any]], line: Line) -> list[Bucket]:
    """(bucket time, the higher of in/out traffic as % of the line's capacity at that time) per result row
    ``[time, in_bps, out_bps]``."""
    scale = 100.0 / line.capacity_bps
    buckets: list[Bucket] = []
    for t, in_bps, out_bps in rows:
        bps = in_bps if out_bps is None or (in_bps is not None and in_bps >= out_bps) else out_bps
        if bps is not None and line.capacity_changes:
            scale = 100.0 / line.capacity_at(t)
        buckets.append((t, None if bps is None else bps * scale))
    return buckets


def _ns(t_s: int) -> int:
    return t_s * NS


class Evaluator:
    """Builds each rule's query and turns its answer into a verdict per subject. Between calls it keeps only the
    anomaly rules' baselines (:attr:`baselines`, refreshed hourly)."""

    def __init__(self, config: AlertsConfig, inventory: Inventory, grafana: GrafanaSettings, *,
                 plan_currency: Mapping[str, str] | None = None):
        self.config = config
        self.plan_currency = dict(plan_currency or {})  # voice.yaml rate plan -> currency of its costs
        self.lines, self.devices = build_subjects(inventory, grafana)
        # Effective (overridden) rule and thresholds per line, computed once: the hot loop only looks them up.
        self._effective: dict[str, dict[str, Any]] = {}
        self._thresholds: dict[str, dict[str, Thresholds]] = {}
        for rule in config.rules:
            if rule.scope is AlertScope.LINE:
                table = self._effective[rule.name] = {
                    sid: config.effective_rule(rule, line=sid, department=s.labels["department"])
                    for sid, s in self.subjects(rule).items()
                }
                if rule.kind in (*SUSTAINED_KINDS, AlertRuleKind.BLOCKED_CALLS, AlertRuleKind.ANOMALY):
                    by_rule: dict[int, Thresholds] = {}
                    self._thresholds[rule.name] = {
                        sid: by_rule.setdefault(id(eff), eff.thresholds()) for sid, eff in table.items() if eff.enabled
                    }
        self.baselines: dict[str, Baseline] = {}
        """The anomaly rules' baselines by rule name (:meth:`refresh`); a new evaluator may take the old one's."""
        # Lines the inventory carries on several interfaces: their sustained rules need the member-sum statement.
        self.multi_member = sorted(sid for sid, s in self.lines.items()
                                   if s.line is not None and len(s.line.members) > 1)

    @cached_property
    def voice_lines(self) -> dict[str, Subject]:
        """The subjects of the voice rules: active ``voice_trunk`` lines."""
        return {sid: s for sid, s in self.lines.items() if s.line is not None and s.line.type is LineType.VOICE_TRUNK}

    @cached_property
    def channel_lines(self) -> dict[str, Subject]:
        """The subjects of ``channel_utilization``: voice trunks with contracted ``channels``."""
        return {sid: s for sid, s in self.voice_lines.items() if s.line is not None and s.line.channels}

    def subjects(self, rule: Any) -> dict[str, Subject]:
        if rule.kind in VOICE_RULE_KINDS:
            return self.channel_lines if rule.kind is AlertRuleKind.CHANNEL_UTILIZATION else self.voice_lines
        return self.devices if rule.scope is AlertScope.DEVICE else self.lines

    def effective(self, rule: Any, subject: str) -> Any:
        table = self._effective.get(rule.name)
        return rule if table is None else table.get(subject, rule)

    def _max_over_lines(self, rule: Any, attr: str) -> float:
        table = self._effective.get(rule.name) or {}
        values = [getattr(r, attr) for r in table.values() if r.enabled] or [getattr(rule, attr)]
        return max(values)

    # -- queries -----------------------------------------------------------------------------------------------

    def lookback_s(self, rule: Any) -> int:
        kind = rule.kind
        if kind in SUSTAINED_KINDS or kind is AlertRuleKind.ANOMALY:
            span = max(self._max_over_lines(rule, "for_s"), self._max_over_lines(rule, "clear_for_s"))
            buckets = math.ceil(span / rule.sample_s) + 1
            if kind is AlertRuleKind.ANOMALY:  # an hour at least: the short-term noise is estimated from it
                buckets = max(buckets, math.ceil(NOISE_WINDOW_S / rule.sample_s))
            return int(buckets * rule.sample_s)
        if kind is AlertRuleKind.BLOCKED_CALLS:
            return int(self._max_over_lines(rule, "window_s"))
        if kind is AlertRuleKind.COST_SPIKE:
            return int(self._max_over_lines(rule, "baseline_weeks")) * WEEK_S + HOUR_S
        if kind in VOICE_RULE_KINDS:
            return int(self._max_over_lines(rule, "lookback_s"))
        return int(rule.lookback_s)

    def queries(self, rule: Any, *, end_s: int) -> list[str]:
        """The InfluxQL statements this rule needs at ``end_s``, for all lines (or devices) at once: one, or for the
        sustained rules with multi-member lines in the inventory, the plain one and the member-sum one."""
        kind = rule.kind
        if kind in VOICE_RULE_KINDS:  # no voice trunk in the inventory: no query at all
            return [self._voice_query(rule, end_s=end_s)] if self.subjects(rule) else []
        if kind in (AlertRuleKind.UTILIZATION, AlertRuleKind.ERROR_RATE, AlertRuleKind.ANOMALY):
            fields = rule.fields if kind is AlertRuleKind.ERROR_RATE else ("in_bps", "out_bps")
            if kind is AlertRuleKind.ANOMALY and not self._effective.get(rule.name):
                return []
            return self.traffic_statements(fields, start_s=end_s - self.lookback_s(rule), end_s=end_s,
                                           step_s=rule.sample_s, align_s=end_s)
        return [self.query(rule, end_s=end_s)]

    def traffic_statements(self, fields: Sequence[str], *, start_s: int, end_s: int, step_s: int,
                           align_s: int) -> list[str]:
        """Per ``step_s`` bucket (aligned to ``align_s``) of ``[start_s, end_s)`` and line, the mean of each of
        ``fields`` summed over the line's members: the plain per-line statement, and for the inventory's
        multi-member lines the member-sum one (a subquery; only when there are such lines)."""
        window = f"time >= {_ns(start_s)} AND time < {_ns(end_s)}"
        every = f"time({step_s}s, {align_s % step_s}s)"
        means = ", ".join(f'mean("{f}") AS "{f}"' for f in fields)
        if not self.multi_member:
            return [f'SELECT {means} FROM "line_traffic" WHERE {window} GROUP BY {every}, "line" fill(none)']
        lines = exact_regex(self.multi_member)
        summed = ", ".join(f'sum("{f}") AS "{f}"' for f in fields)
        plain = (f'SELECT {means} FROM "line_traffic" WHERE {window} AND "line" !~ {lines} '
                 f'GROUP BY {every}, "line" fill(none)')
        member_sum = (f'SELECT {summed} FROM (SELECT {means} FROM "line_traffic" WHERE {window} AND "line" =~ '
                      f'{lines} GROUP BY {every}, {MEMBER_TAGS} fill(none)) WHERE {window} '
                      f'GROUP BY {every}, "line" fill(none)')
        return [plain, member_sum]

    # -- the anomaly rule's baseline (read hourly, kept between evaluations) ----------------------------------

    def refresh_queries(self, rule: Any, *, end_s: int) -> list[str]:
        """The statements of what a rule keeps between evaluations and must re-read now: the anomaly rule's
        hourly means, once per ``baseline_refresh_s`` — of ``baseline_weeks`` weeks the first time, then of the
        hours since the kept baseline's window (else nothing)."""
        if rule.kind is not AlertRuleKind.ANOMALY or not self._effective.get(rule.name):
            return []
        if not baseline_due(rule, self.baselines.get(rule.name), end_s=end_s):
            return []
        start_s, window_end_s = baseline_read_window(rule, self.baselines.get(rule.name), end_s=end_s)
        if start_s >= window_end_s:  # still the same hour: nothing new to read, the kept baseline stays
            return []
        return self.traffic_statements(("in_bps", "out_bps"), start_s=start_s, end_s=window_end_s, step_s=HOUR_S,
                                       align_s=0)

    def refresh(self, rule: Any, series: Sequence[Mapping[str, Any]], *, end_s: int) -> None:
        """Keep what :meth:`refresh_queries` read (the answer of all its statements): the rule's baseline."""
        hourly = utilization_frame(self._rows_by_line(rule, series), self._line_of)
        self.baselines[rule.name] = build_baseline(rule, self.baselines.get(rule.name), hourly, end_s=end_s)

    @cached_property
    def _line_of(self) -> dict[str, Line]:
        return {sid: s.line for sid, s in self.lines.items() if s.line is not None}

    def _rows_by_line(self, rule: Any, series: Sequence[Mapping[str, Any]]) -> dict[str, Sequence[Sequence[Any]]]:
        subjects = self.subjects(rule)
        return {s["tags"]["line"]: s["values"] for s in series if s["tags"].get("line") in subjects}

    def query(self, rule: Any, *, end_s: int) -> str:
        """The one InfluxQL statement of a rule that needs one (not the sustained rules of an inventory with
        multi-member lines: see :meth:`queries`), for all lines (or devices) at once."""
        kind = rule.kind
        start_s = end_s - self.lookback_s(rule)
        if kind in (AlertRuleKind.UTILIZATION, AlertRuleKind.ERROR_RATE):
            [statement] = self.queries(rule, end_s=end_s)
            return statement
        if kind in (AlertRuleKind.LINE_DOWN, AlertRuleKind.MEMBER_DOWN):
            polls = int(self._max_over_lines(rule, "consecutive_polls"))
            return (f'SELECT "oper_status", "admin_status" FROM "line_traffic" WHERE time > {_ns(start_s)} '
                    f'AND time <= {_ns(end_s)} GROUP BY {MEMBER_TAGS} ORDER BY time DESC LIMIT {polls}')
        if kind is AlertRuleKind.DEVICE_UNREACHABLE:
            return (f'SELECT "ok" FROM "collector_poll" WHERE time > {_ns(start_s)} AND time <= {_ns(end_s)} '
                    f'GROUP BY "device" ORDER BY time DESC LIMIT {rule.consecutive_polls}')
        if kind is AlertRuleKind.NO_DATA:
            if rule.scope is AlertScope.DEVICE:
                return (f'SELECT last("ok") FROM "collector_poll" WHERE time > {_ns(start_s)} '
                        f'AND time <= {_ns(end_s)} GROUP BY "device"')
            return (f'SELECT last("oper_status") FROM "line_traffic" WHERE time > {_ns(start_s)} '
                    f'AND time <= {_ns(end_s)} GROUP BY "line"')
        if kind in VOICE_RULE_KINDS:
            return self._voice_query(rule, end_s=end_s)
        if kind is AlertRuleKind.FORECAST_CROSSING:
            return forecast_statement(start_s=start_s, end_s=end_s)
        raise AssertionError(f"unhandled rule kind {kind}")

    def _voice_query(self, rule: Any, *, end_s: int) -> str:
        """The statement of a voice rule over ``voice_trunk`` (docs/schema.md), for every voice trunk at once."""
        kind = rule.kind
        start_s = end_s - self.lookback_s(rule)
        recent = f"time > {_ns(start_s)} AND time <= {_ns(end_s)}"
        if kind is AlertRuleKind.CHANNEL_UTILIZATION:
            # The CDRs' busy_max and, where a live source polls the PBX, its count of calls up now: the higher one
            # per bucket (CDRs arrive when calls end, the live count sees the calls still in progress).
            every = f"time({rule.sample_s}s, {end_s % rule.sample_s}s)"
            return (f'SELECT max("busy_max") AS "busy_max", max("active") AS "active" FROM "voice_trunk", '
                    f'"voice_live" WHERE time >= {_ns(start_s)} AND time < {_ns(end_s)} '
                    f'GROUP BY {every}, "line" fill(none)')
        if kind is AlertRuleKind.BLOCKED_CALLS:
            return f'SELECT "blocked" FROM "voice_trunk" WHERE {recent} AND "blocked" > 0 GROUP BY "line"'
        if kind is AlertRuleKind.PREMIUM_DESTINATION:
            return (f'SELECT "premium", "high_risk" FROM "voice_trunk" WHERE {recent} '
                    f'AND ("premium" > 0 OR "high_risk" > 0) GROUP BY "line"')
        if kind is AlertRuleKind.AFTER_HOURS_INTERNATIONAL:
            return (f'SELECT "international" FROM "voice_trunk" WHERE {recent} AND "international" > 0 '
                    f'GROUP BY "line"')
        # COST_SPIKE: hourly sums aligned to end_s over the baseline weeks and the last hour.
        return (f'SELECT sum("cost") AS "cost" FROM "voice_trunk" WHERE time >= {_ns(start_s)} AND time < '
                f'{_ns(end_s)} GROUP BY time({HOUR_S}s, {end_s % HOUR_S}s), "line" fill(none)')

    # -- verdicts ----------------------------------------------------------------------------------------------

    def verdicts(self, rule: Any, series: Sequence[Mapping[str, Any]], *, end_s: int,
                 firing: Mapping[str, Severity]) -> dict[str, Verdict]:
        """A verdict for every subject of the rule's scope. ``series``: the query's answer (epoch seconds);
        ``firing``: the severity of the subjects whose alert of this rule is firing now (for hysteresis)."""
        subjects = self.subjects(rule)
        tag = "device" if rule.scope is AlertScope.DEVICE else "line"
        by_subject: dict[str, Sequence[Sequence[Any]]] = {}
        by_member: dict[str, list[Sequence[Sequence[Any]]]] = {}
        for s in series:
            name = s["tags"].get(tag)
            if name in subjects:
                by_subject[name] = s["values"]
                by_member.setdefault(name, []).append(s["values"])
        kind = rule.kind
        if kind in VOICE_RULE_KINDS:
            return self._voice_verdicts(rule, series, subjects, end_s=end_s, firing=firing)
        if kind in TREND_RULE_KINDS:
            return self._trend_verdicts(rule, series, end_s=end_s, firing=firing)
        out: dict[str, Verdict] = {}
        if kind in (AlertRuleKind.UTILIZATION, AlertRuleKind.ERROR_RATE):
            thresholds = self._thresholds[rule.name]
            utilization = kind is AlertRuleKind.UTILIZATION
            for name, th in thresholds.items():
                rows = by_subject.get(name)
                if not rows:
                    out[name] = HOLD
                    continue
                line = subjects[name].line
                buckets: list[Bucket] = (_utilization_buckets(rows, line) if utilization and line is not None
                                         else [(row[0], _max_present(row)) for row in rows])
                out[name] = judge_threshold(buckets, th, end_s=end_s, firing=firing.get(name))
        elif kind in (AlertRuleKind.LINE_DOWN, AlertRuleKind.MEMBER_DOWN):
            judge = judge_all_members_down if kind is AlertRuleKind.LINE_DOWN else judge_some_members_down
            for name in subjects:
                eff = self.effective(rule, name)
                if not eff.enabled:
                    continue
                members = [[(int(t), oper is not None and oper != OperStatus.UP and admin == OperStatus.UP)
                            for t, oper, admin in rows] for rows in by_member.get(name, [])]
                out[name] = judge(members, polls=eff.consecutive_polls, severity=eff.severity)
        elif kind is AlertRuleKind.DEVICE_UNREACHABLE:
            for name in subjects:
                rows = by_subject.get(name) or []
                samples = [(int(t), ok is not None and int(ok) == 0) for t, ok in rows]
                out[name] = judge_consecutive(samples, polls=rule.consecutive_polls, severity=rule.severity)
        elif kind is AlertRuleKind.NO_DATA:
            lookback = self.lookback_s(rule)
            for name in subjects:
                eff = self.effective(rule, name)
                if not eff.enabled:
                    continue
                rows = by_subject.get(name)
                last_seen = int(rows[-1][0]) if rows else None
                out[name] = judge_no_data(last_seen, end_s=end_s, after_s=eff.after_s, lookback_s=lookback,
                                          severity=eff.severity)
        return out

    def _trend_verdicts(self, rule: Any, series: Sequence[Mapping[str, Any]], *, end_s: int,
                        firing: Mapping[str, Severity]) -> dict[str, Verdict]:
        """Verdicts of ``forecast_crossing`` (the latest outlook row per line) and ``anomaly`` (recent buckets
        against the kept baseline), alerting/trend_rules.py."""
        effective = self._effective.get(rule.name) or {}
        if rule.kind is AlertRuleKind.FORECAST_CROSSING:
            rows = outlook_rows(series)
            return {name: judge_forecast(rows.get(name), eff, end_s=end_s, firing=name in firing)
                    for name, eff in effective.items() if eff.enabled}
        recent = utilization_frame(self._rows_by_line(rule, series), self._line_of)
        return anomaly_verdicts(rule, recent, self.baselines.get(rule.name), effective=effective,
                                thresholds=self._thresholds.get(rule.name, {}), end_s=end_s, firing=firing)

    def _voice_verdicts(self, rule: Any, series: Sequence[Mapping[str, Any]], subjects: Mapping[str, Subject], *,
                        end_s: int, firing: Mapping[str, Severity]) -> dict[str, Verdict]:
        """Verdicts of a voice rule. ``voice_trunk`` is written only for minutes with calls: a trunk without rows
        had none (0 blocked, no suspicious call, idle), never "no data"."""
        rows_of: dict[str, list[Sequence[Any]]] = {}
        for s in series:  # channel_utilization: one series per measurement and line (voice_trunk, voice_live)
            name = s["tags"].get("line")
            if name in subjects:
                rows_of.setdefault(name, []).extend(s["values"])
        kind = rule.kind
        window_start_s = end_s - self.lookback_s(rule)
        out: dict[str, Verdict] = {}
        for name, subject in subjects.items():
            eff = self.effective(rule, name)
            if not eff.enabled:
                continue
            rows = rows_of.get(name, [])
            if kind is AlertRuleKind.CHANNEL_UTILIZATION:
                busy: dict[int, float] = {}
                for t, busy_max, active in rows:
                    value = max(v for v in (busy_max, active, 0) if v is not None)
                    busy[int(t)] = max(busy.get(int(t), 0), value)
                channels = subject.line.channels if subject.line is not None else None
                buckets = idle_filled(busy, start_s=window_start_s, sample_s=rule.sample_s,
                                      scale=100.0 / (channels or 1))
                out[name] = judge_threshold(buckets, self._thresholds[rule.name][name], end_s=end_s,
                                            firing=firing.get(name))
            elif kind is AlertRuleKind.BLOCKED_CALLS:
                blocked = sum(row[1] or 0 for row in rows if row[0] > end_s - eff.window_s)
                verdict = judge_level(blocked * HOUR_S / eff.window_s, self._thresholds[rule.name][name],
                                      end_s=end_s, firing=firing.get(name))
                out[name] = replace(verdict, value=float(blocked))
            elif kind is AlertRuleKind.COST_SPIKE:
                figures = cost_baseline([(int(t), c) for t, c in rows], end_s=end_s, weeks=eff.baseline_weeks)
                out[name] = judge_cost_spike(figures, factor=eff.factor, min_cost=eff.min_cost,
                                             severity=eff.severity, now_s=end_s)
            else:
                recent = [row for row in rows if row[0] > end_s - eff.lookback_s]
                if kind is AlertRuleKind.PREMIUM_DESTINATION:
                    # A call can be both premium and high-risk: per minute the larger count, never both.
                    calls = [(int(row[0]), float(max(row[1] or 0, row[2] or 0))) for row in recent]
                    out[name] = judge_calls(calls, min_calls=eff.min_calls, severity=eff.severity)
                else:
                    calls = outside_hours(((int(row[0]), float(row[1] or 0)) for row in recent), eff.business_hours)
                    out[name] = judge_calls(calls, min_calls=eff.min_calls, severity=eff.severity)
        return out

    def facts_at(self, subject: Subject, end_s: int) -> dict[str, Any]:
        """What the message says about the subject at ``end_s``: a line's facts with its capacity then (and a
        voice trunk's contracted channels and its rate plan's currency)."""
        if subject.line is None:
            return dict(subject.info)
        facts = {**subject.info, "capacity_bps": subject.line.capacity_at(end_s)}
        if subject.line.channels:
            facts["channels"] = subject.line.channels
        currency = self.plan_currency.get(subject.line.rate_plan or "")
        if currency:
            facts["currency"] = currency
        return facts

    def default_severity(self, rule: Any, subject: str) -> Severity:
        eff = self.effective(rule, subject)
        return getattr(eff, "severity", Severity.WARNING)

    def threshold_info(self, rule: Any, subject: str) -> dict[str, Any]:
        """What the message says about the rule's levels for this subject."""
        eff = self.effective(rule, subject)
        kind = rule.kind
        if kind is AlertRuleKind.UTILIZATION:
            return {"warning": eff.warning_pct, "critical": eff.critical_pct, "clear": eff.clear_pct,
                    "for_s": eff.for_s, "unit": "%"}
        if kind is AlertRuleKind.ERROR_RATE:
            return {"warning": eff.warning_ps, "critical": eff.critical_ps, "for_s": eff.for_s, "unit": "/s",
                    "fields": list(eff.fields)}
        if kind in (AlertRuleKind.LINE_DOWN, AlertRuleKind.MEMBER_DOWN, AlertRuleKind.DEVICE_UNREACHABLE):
            return {"polls": eff.consecutive_polls}
        if kind is AlertRuleKind.CHANNEL_UTILIZATION:
            return {"warning": eff.warning_pct, "critical": eff.critical_pct, "clear": eff.clear_pct,
                    "for_s": eff.for_s, "unit": "%"}
        if kind is AlertRuleKind.BLOCKED_CALLS:
            return {"warning": eff.warning_per_hour, "critical": eff.critical_per_hour, "window_s": eff.window_s,
                    "unit": "/h"}
        if kind is AlertRuleKind.PREMIUM_DESTINATION:
            return {"lookback_s": eff.lookback_s, "min_calls": eff.min_calls}
        if kind is AlertRuleKind.AFTER_HOURS_INTERNATIONAL:
            hours = eff.business_hours
            return {"lookback_s": eff.lookback_s, "min_calls": eff.min_calls,
                    "business_hours": {"timezone": hours.timezone, "weekdays": list(hours.weekdays),
                                       "start": f"{hours.start:%H:%M}", "end": f"{hours.end:%H:%M}"}}
        if kind is AlertRuleKind.COST_SPIKE:
            return {"factor": eff.factor, "min_cost": eff.min_cost, "baseline_weeks": eff.baseline_weeks}
        if kind is AlertRuleKind.FORECAST_CROSSING:
            return {"level_pct": eff.level_pct, "within_days": eff.within_days}
        if kind is AlertRuleKind.ANOMALY:
            return {"k_mad": eff.k_mad, "for_s": eff.for_s, "baseline_weeks": eff.baseline_weeks}
        return {"after_s": eff.after_s}
