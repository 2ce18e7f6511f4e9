"""The alert service: evaluate rules, route and group notifications into the outbox, deliver the outbox.

Three steps, each committing its effect to the store in one transaction, each taking the time as an argument (the
clock is injected, so tests drive hours of alert life in milliseconds):

1. :meth:`AlertService.evaluate` — one query per rule, verdicts, state transitions; every state change is stored
   with its ``alert_events`` line protocol, which is then written to InfluxDB (kept in the store until it is).
2. :meth:`AlertService.flush` — route firing/resolved alerts, drop muted ones (maintenance windows, planned
   maintenance of the inventory, silences, no-data of a line whose device is unreachable, the traffic anomaly of
   a line that is down or whose device is unreachable), decide per group
   (group_wait/interval/repeat) and enqueue.
3. :meth:`AlertService.dispatch` — send due outbox messages; a failure is retried with exponential backoff (or the
   receiver's Retry-After) until the message expires, which is logged at ERROR.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from alerting.config import VOICE_RULE_KINDS, AlertsConfig, iter_rules, load_alerts, state_file
from alerting.evaluator import Evaluator, Subject
from alerting.logic import AlertStatus, transition
from alerting.matchers import all_match, parse_matcher
from alerting.receivers import Sender, build_senders
from alerting.render import summary
from alerting.routing import GroupMember, GroupState, RouteNode, compile_route, match_routes, plan_group
from alerting.store import AlertStore, StoredAlert
from alerting.voice_calls import FRAUD_KINDS, VoiceFacts, load_voice_facts
from linewatch.choices import AlertRuleKind, AlertScope, AlertState, DeliveryStatus
from linewatch.errors import DeliveryError, InfluxError, InfluxRejected, LineProtocolError
from linewatch.influx import InfluxClient, Point, encode_point
from linewatch.inventory import Inventory
from linewatch.inventory_source import InventorySource
from linewatch.settings import GrafanaSettings, Settings

log = logging.getLogger(__name__)

RESOLVED_RETENTION_S = 7 * 86400
OUTBOX_RETENTION_S = 30 * 86400


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One line of ``linewatch alerts evaluate``: the state of a rule for a subject after this evaluation."""

    rule: str
    subject: str
    state: str  # ok, pending, firing, resolved, no data
    severity: str
    value: float | None
    since_s: int | None


@dataclass
class EvaluationReport:
    now_s: int
    changes: list[StoredAlert] = field(default_factory=list)
    rule_errors: dict[str, str] = field(default_factory=dict)
    rows: list[RuleRow] = field(default_factory=list)
    events_written: int = 0


@dataclass
class DispatchReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def alert_key(rule: str, subject: str) -> str:
    return f"{rule}/{subject}"


class AlertService:
    """Evaluator + notifier over one store. Thread-safe: the steps take a lock (run() calls them from jobs)."""

    def __init__(self, *, config: AlertsConfig, inventory: Inventory, client: InfluxClient, store: AlertStore,
                 grafana: GrafanaSettings | None = None, senders: Mapping[str, Sender] | None = None,
                 clock: Callable[[], float] = time.time, inventory_source: InventorySource | None = None,
                 voice: VoiceFacts | None = None):
        self.config = config
        self.voice = voice or VoiceFacts()
        """The call store toll-fraud alerts name the destinations from, the rate plans' currencies (voice.yaml)."""
        self.inventory = inventory
        self.grafana = grafana or GrafanaSettings()
        self.inventory_source = inventory_source
        self.client = client
        self.store = store
        self.clock = clock
        self.evaluator = Evaluator(config, inventory, grafana or GrafanaSettings(),
                                   plan_currency=self.voice.plan_currency)
        self.senders: dict[str, Sender] = dict(senders) if senders is not None else build_senders(config.receivers)
        self.route = compile_route(config.route)
        self._lock = threading.RLock()
        # Receiver → time before which nothing is posted to it (a 429's Retry-After applies to the whole receiver).
        self._quiet_until: dict[str, float] = {}
        self.muted: dict[str, str] = {}
        """Firing alerts whose notifications the last flush muted, by alert key: why (logged once per reason)."""

    @classmethod
    def from_settings(cls, settings: Settings, *, client: InfluxClient | None = None,
                      clock: Callable[[], float] = time.time) -> AlertService:
        source = InventorySource(settings)  # lines.yaml or the management application, asked every evaluation
        inventory = source.current()
        config = load_alerts(settings.resolve(settings.alerts_path), inventory=inventory)
        store = AlertStore(state_file(settings, config), exclusive=True)
        voice = load_voice_facts(settings) if any(r.kind in VOICE_RULE_KINDS for r in iter_rules(config)) else None
        return cls(config=config, inventory=inventory, client=client or InfluxClient(settings.influx), store=store,
                   grafana=settings.grafana, clock=clock, inventory_source=source, voice=voice)

    def refresh_inventory(self) -> None:
        """Take the source's current inventory: a changed one applies from this evaluation on (the rules were
        checked against the inventory at start; a line added later gets the rules' defaults)."""
        if self.inventory_source is None:
            return
        inventory = self.inventory_source.current()
        if inventory is not self.inventory and inventory != self.inventory:
            baselines = self.evaluator.baselines  # a line added since gets its baseline at the next hourly refresh
            self.evaluator = Evaluator(self.config, inventory, self.grafana, plan_currency=self.voice.plan_currency)
            self.evaluator.baselines = baselines
            self.inventory = inventory

    def close(self) -> None:
        self.store.close()

    # -- 1. evaluate -----------------------------------------------------------------------------------------------

    def evaluate(self, now_s: float | None = None, *, report_rows: bool = False) -> EvaluationReport:
        """Run every enabled rule once at ``now_s``; store state changes and write them to InfluxDB."""
        with self._lock:
            self.refresh_inventory()
            end_s = int(self.clock() if now_s is None else now_s)
            report = EvaluationReport(end_s)
            stored = self.store.alerts()
            changed: list[StoredAlert] = []
            values: list[tuple[str, float | None]] = []
            events: list[str] = []
            for rule in iter_rules(self.config):
                try:
                    refresh = self.evaluator.refresh_queries(rule, end_s=end_s)  # the anomaly baseline, hourly
                    if refresh:
                        self.evaluator.refresh(rule, [s for q in refresh for s in self.client.query(q, epoch="s")],
                                               end_s=end_s)
                    series = [s for q in self.evaluator.queries(rule, end_s=end_s)
                              for s in self.client.query(q, epoch="s")]
                except InfluxError as exc:
                    # Never resolve (nor fire) on a failed query: the states stay as they are.
                    log.error("alert rule %s: query failed, states kept: %s", rule.name, exc)
                    report.rule_errors[rule.name] = str(exc)
                    continue
                prefix = f"{rule.name}/"
                mine = {k[len(prefix):]: a for k, a in stored.items() if k.startswith(prefix)}
                firing = {s: a.status.severity for s, a in mine.items() if a.status.state is AlertState.FIRING}
                verdicts = self.evaluator.verdicts(rule, series, end_s=end_s, firing=firing)
                subjects = self.evaluator.subjects(rule)
                for name, verdict in verdicts.items():
                    prev = mine.get(name)
                    prev_status = prev.status if prev is not None else None
                    if prev_status is None and verdict.severity is None and verdict.pending_since_s is None:
                        if report_rows:
                            state = "no data" if verdict.hold else "ok"
                            report.rows.append(RuleRow(rule.name, name, state, "", verdict.value, None))
                        continue  # the common case: nothing to do (kept cheap for 10,000 lines)
                    status, is_change = transition(prev_status, verdict, now_s=end_s,
                                                   default_severity=self.evaluator.default_severity(rule, name))
                    if is_change and status is not None:
                        detail = verdict.detail
                        lookup = self.voice.call_lookup
                        if status.state is AlertState.FIRING and rule.kind in FRAUD_KINDS and lookup is not None:
                            eff = self.evaluator.effective(rule, name)
                            detail = {"destinations": lookup(eff, line=name, start_s=end_s - eff.lookback_s,
                                                             end_s=end_s + 60)}
                        alert = self._stored(rule, subjects[name], status, prev, end_s=end_s, detail=detail)
                        changed.append(alert)
                        events.extend(self._event_lines(alert, end_s))
                    elif status is not None and prev_status is not None and status.value != prev_status.value:
                        values.append((alert_key(rule.name, name), status.value))
                    if report_rows:
                        shown = status.state.value if status is not None else "ok"
                        report.rows.append(RuleRow(rule.name, name, shown, status.severity.value if status else "",
                                                   verdict.value if not verdict.hold else None,
                                                   status.since_s if status else None))
            self._retire_orphans(stored, report, end_s, changed, events)
            if changed or values or events:
                self.store.apply_evaluation(changed=changed, values=values, events=events)
            report.changes = changed
            for alert in changed:
                log.info("alert %s: %s (%s) %s", alert.key, alert.status.state.value, alert.status.severity.value,
                         summary(self._alert_dict(alert)))
        report.events_written = self.write_events()
        return report

    def _retire_orphans(self, stored: Mapping[str, StoredAlert], report: EvaluationReport, end_s: int,
                        changed: list[StoredAlert], events: list[str]) -> None:
        """Resolve active alerts whose rule was removed/disabled or whose line is no longer active."""
        rules = {r.name: r for r in iter_rules(self.config)}
        for alert in stored.values():
            if alert.status.state not in (AlertState.PENDING, AlertState.FIRING) or alert.rule in report.rule_errors:
                continue
            rule = rules.get(alert.rule)
            if rule is not None and alert.subject in self.evaluator.subjects(rule):
                eff = self.evaluator.effective(rule, alert.subject)
                if eff.enabled:
                    continue
            state = AlertState.RESOLVED if alert.status.state is AlertState.FIRING else AlertState.INACTIVE
            status = AlertStatus(state, alert.status.severity, end_s, alert.status.value, end_s)
            retired = StoredAlert(alert.key, alert.rule, alert.subject, status, alert.labels, alert.info, alert.id)
            changed.append(retired)
            events.extend(self._event_lines(retired, end_s))

    def _stored(self, rule: Any, subject: Subject, status: AlertStatus, prev: StoredAlert | None, *,
                end_s: int, detail: Mapping[str, Any] | None = None) -> StoredAlert:
        labels = {**subject.labels, "rule": rule.name, "severity": status.severity.value}
        info = {**self.evaluator.facts_at(subject, end_s), **self.evaluator.threshold_info(rule, subject.name),
                **(detail or {}), "kind": rule.kind.value}
        return StoredAlert(alert_key(rule.name, subject.name), rule.name, subject.name, status, labels, info,
                           prev.id if prev else None)

    @staticmethod
    def _alert_dict(alert: StoredAlert) -> dict[str, Any]:
        s = alert.status
        return {"id": alert.id, "key": alert.key, "rule": alert.rule, "kind": alert.info.get("kind"),
                "state": s.state.value, "severity": s.severity.value, "since_s": s.since_s,
                "changed_s": s.changed_s, "value": s.value, "labels": dict(alert.labels), "info": dict(alert.info)}

    def _event_lines(self, alert: StoredAlert, now_s: int) -> list[str]:
        s = alert.status
        tags = {k: alert.labels.get(k, "") for k in ("line", "department", "site", "carrier")}
        tags = {k: v for k, v in tags.items() if v}
        tags.update(rule=alert.rule, severity=s.severity.value)
        fields: dict[str, Any] = {"state": s.state.value, "firing": int(s.state is AlertState.FIRING),
                                  "summary": summary(self._alert_dict(alert)), "since_s": int(s.since_s)}
        if s.value is not None:
            fields["value"] = float(s.value)
        try:
            return [encode_point(Point("alert_events", tags, fields, now_s * 1_000_000_000))]
        except LineProtocolError as exc:
            log.error("alert %s: cannot write its event to InfluxDB: %s", alert.key, exc)
            return []

    def write_events(self) -> int:
        """Send stored ``alert_events`` lines to InfluxDB; keep them on an outage, drop them on a 4xx."""
        with self._lock:
            return self._write_events()

    def _write_events(self) -> int:
        written = 0
        while True:
            pending = self.store.pending_events()
            if not pending:
                return written
            body = ("\n".join(line for _, line in pending) + "\n").encode()
            try:
                self.client.write(body)
            except InfluxRejected as exc:
                log.error("InfluxDB rejected %d alert event(s), dropped: %s", len(pending), exc)
            except InfluxError as exc:
                log.warning("alert events kept for later, InfluxDB unavailable: %s", exc)
                return written
            else:
                written += len(pending)
            self.store.delete_events(pending[-1][0])

    # -- 2. flush --------------------------------------------------------------------------------------------------

    def muted_by(self, labels: Mapping[str, str], now_s: float, silences: Iterable[Any]) -> str | None:
        """Why an alert with these labels is muted now (maintenance window, planned maintenance of its line in the
        inventory, or silence), or None."""
        for window in self.config.maintenance_windows:
            if window.active_at(now_s) and all_match(window.parsed_matchers, labels):
                return f"maintenance window {window.name}"
        if labels.get("scope") == AlertScope.LINE and self.inventory.maintenance:
            planned = self.inventory.maintenance_at(now_s).get(labels.get("line", ""))
            if planned is not None:
                return planned.reason
        for silence in silences:
            if all_match((parse_matcher(m) for m in silence.matchers), labels):
                return f"silence {silence.id} ({silence.reason})"
        return None

    def flush(self, now_s: float | None = None) -> list[int]:
        """Route alerts into groups and enqueue the notifications that are due; return the new outbox ids."""
        with self._lock:
            now = self.clock() if now_s is None else now_s
            alerts = self.store.alerts()
            groups = self.store.groups()
            silences = self.store.silences(active_at=now)
            down_devices = {a.labels.get("device") for a in alerts.values()
                            if a.status.state is AlertState.FIRING and a.labels.get("scope") == AlertScope.DEVICE}
            down_lines = {a.subject for a in alerts.values()
                          if a.status.state is AlertState.FIRING and a.info.get("kind") == AlertRuleKind.LINE_DOWN}
            members: dict[tuple[str, str], list[GroupMember]] = {}
            nodes: dict[tuple[str, str], RouteNode] = {}
            group_labels: dict[tuple[str, str], dict[str, str]] = {}
            muted: dict[str, str] = {}
            for alert in alerts.values():
                state = alert.status.state
                if state not in (AlertState.FIRING, AlertState.RESOLVED):
                    continue
                if state is AlertState.FIRING:
                    reason = self.muted_by(alert.labels, now, silences)
                    if reason is not None:
                        muted[alert.key] = reason
                        if self.muted.get(alert.key) != reason:
                            log.info("alert %s firing, notifications muted: %s", alert.key, reason)
                        continue
                    if (alert.info.get("kind") == AlertRuleKind.NO_DATA and alert.labels.get("scope") == "line"
                            and alert.labels.get("device") in down_devices):
                        continue  # inhibited: the device alert already says why
                    if alert.info.get("kind") == AlertRuleKind.ANOMALY and (
                            alert.subject in down_lines or alert.labels.get("device") in down_devices):
                        continue  # inhibited: a line that is down has no traffic; line_down already says so
                for node in match_routes(self.route, alert.labels):
                    gk = (node.receiver, node.group_key(alert.labels))
                    nodes[gk] = node
                    group_labels[gk] = {k: alert.labels.get(k, "") for k in node.group_by if k != "..."}
                    members.setdefault(gk, []).append(GroupMember(alert.key, state is AlertState.FIRING,
                                                                  alert.status.severity.value,
                                                                  acked=alert.acked_s is not None))
            self.muted = muted
            states: dict[tuple[str, str], GroupState] = {}
            messages: list[tuple[str, str, dict[str, Any]]] = []
            for gk in set(members) | set(groups):
                previous = groups.get(gk, GroupState())
                node = nodes.get(gk)
                if node is None:  # the group has no alert left (or its route is gone): it ends
                    if previous != GroupState():
                        states[gk] = GroupState()
                    continue
                receiver = self.config.receivers_by_name.get(gk[0])
                send_resolved = receiver.send_resolved if receiver is not None else False
                decision = plan_group(members[gk], previous, node=node, send_resolved=send_resolved, now_s=now)
                if decision.state != previous:
                    states[gk] = decision.state
                if decision.send:
                    messages.append((gk[0], gk[1], {
                        "receiver": gk[0], "group_key": gk[1], "group_labels": group_labels[gk],
                        "reason": decision.reason, "created_s": now,
                        "firing": [self._alert_dict(alerts[k]) for k in decision.firing],
                        "resolved": [self._alert_dict(alerts[k]) for k in decision.resolved],
                    }))
            ids: list[int] = []
            if states or messages:
                ids = self.store.apply_flush(states=states, messages=messages, now_s=now,
                                             expire_s=self.config.delivery.expire_s)
            for (receiver, group_key, payload), mid in zip(messages, ids, strict=True):
                log.info("notification %d to %s queued (%s): %d firing, %d resolved", mid, receiver,
                         payload["reason"], len(payload["firing"]), len(payload["resolved"]))
            keep = {k for st in {**groups, **states}.values() for k in (st.notified or {})}
            self.store.forget_resolved(before_s=now - RESOLVED_RETENTION_S, keep=keep)
            return ids

    # -- 3. dispatch -----------------------------------------------------------------------------------------------

    def backoff_s(self, attempts: int) -> float:
        d = self.config.delivery
        return min(d.backoff_initial_s * 2 ** max(0, attempts - 1), d.backoff_max_s)

    def dispatch(self, now_s: float | None = None) -> DispatchReport:
        """Deliver due outbox messages in order; a receiver that fails is skipped for the rest of this round."""
        with self._lock:
            now = self.clock() if now_s is None else now_s
            report = DispatchReport()
            failed_receivers: set[str] = set()
            for msg, pulled in self._sendable(now):
                if msg.receiver in failed_receivers or self._quiet_until.get(msg.receiver, 0.0) > now:
                    continue
                if now >= msg.expires_s:
                    reason = (f"notification {msg.id} to {msg.receiver} EXPIRED undelivered after {msg.attempts} "
                              f"attempt(s); last error: {msg.last_error}")
                    log.error(reason)
                    self.store.mark_expired(msg.id, error=msg.last_error or "expired")
                    report.expired.append(msg.id)
                    continue
                sender = self.senders.get(msg.receiver)
                try:
                    if sender is None:
                        raise DeliveryError(msg.receiver, "no such receiver in alerts.yaml (removed?)", permanent=True)
                    sender.send(msg.payload, message_id=f"{msg.id}.{int(msg.created_s)}")
                except DeliveryError as exc:
                    attempts = msg.attempts + 1
                    delay = exc.retry_after_s if exc.retry_after_s is not None else self.backoff_s(attempts)
                    level = logging.ERROR if exc.permanent else logging.WARNING
                    log.log(level, "notification %d: attempt %d failed, retry in %.0f s: %s", msg.id, attempts,
                            delay, exc)
                    self.store.mark_failed(msg.id, error=str(exc), next_attempt_s=now + delay)
                    if exc.retry_after_s is not None:
                        self._quiet_until[msg.receiver] = now + delay
                    report.failed.append((msg.id, str(exc)))
                    if not (pulled and exc.permanent):  # a message this one refuses must not hold its group back
                        failed_receivers.add(msg.receiver)
                        # The group's newer messages wait with it (else they would drag it out every round).
                        self.store.postpone_group(msg.receiver, msg.group_key, until_s=now + delay)
                    continue
                self.store.mark_delivered(msg.id, now_s=now)
                report.delivered.append(msg.id)
                log.info("notification %d delivered to %s", msg.id, msg.receiver)
            return report

    def _sendable(self, now: float) -> list[tuple[Any, bool]]:
        """Due messages, oldest first, each preceded by the older undelivered messages of its group even if they
        are still backing off (``pulled=True``): a group's messages arrive in the order they were queued, so a
        'resolved' queued during an outage never lands before the 'firing' it resolves."""
        pending = self.store.messages(status=DeliveryStatus.PENDING)
        due_later: set[tuple[str, str]] = set()
        picked: list[tuple[Any, bool]] = []
        for msg in reversed(pending):
            group = (msg.receiver, msg.group_key)
            due = msg.next_attempt_s <= now
            if due or group in due_later:
                picked.append((msg, not due))
            if due:
                due_later.add(group)
        picked.reverse()
        return picked[: self.config.delivery.max_per_dispatch]

    # -- driving -------------------------------------------------------------------------------------------------

    def tick(self, now_s: float | None = None) -> tuple[EvaluationReport, list[int], DispatchReport]:
        """Evaluate, flush and dispatch once (what one scheduler period does)."""
        now = self.clock() if now_s is None else now_s
        report = self.evaluate(now)
        queued = self.flush(now)
        return report, queued, self.dispatch(now)

    def run(self, stop_event: threading.Event) -> None:
        """Run until ``stop_event`` is set: evaluate+flush every ``evaluation_interval_s`` and dispatch every
        ``dispatch_interval_s`` (apscheduler; a job never overlaps itself, missed runs are coalesced)."""
        from apscheduler.schedulers.background import BackgroundScheduler

        def guarded(step: Callable[[], object], name: str) -> Callable[[], None]:
            def job() -> None:
                try:
                    step()
                except Exception:  # one failing round must not stop the service
                    log.exception("alert %s round failed", name)
            return job

        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(guarded(lambda: (self.evaluate(), self.flush()), "evaluation"), "interval",
                          seconds=self.config.evaluation_interval_s, max_instances=1, coalesce=True,
                          next_run_time=dt.datetime.now(dt.UTC))
        scheduler.add_job(guarded(lambda: (self.flush(), self.dispatch(), self.write_events()), "dispatch"),
                          "interval", seconds=self.config.dispatch_interval_s, max_instances=1, coalesce=True)
        scheduler.add_job(guarded(lambda: self.store.prune_outbox(before_s=self.clock() - OUTBOX_RETENTION_S),
                                  "prune"), "interval", hours=6)
        scheduler.start()
        try:
            stop_event.wait()
        finally:
            scheduler.shutdown(wait=True)
