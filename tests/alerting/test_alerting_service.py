"""The alert service end to end: a real influxd seeded with crafted series, a real SMTP server, a real HTTP server as
the Slack webhook, and an injected clock (hours of alert life run in milliseconds, never flaky)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alerting.config import load_alerts
from alerting.service import AlertService
from alerting.store import AlertStore
from linewatch.choices import AlertState, DeliveryStatus, OperStatus
from linewatch.influx import InfluxClient, Point
from linewatch.inventory import Inventory
from linewatch.servers.ports import free_tcp_port
from tests.alerting.conftest import (
    T0,
    Clock,
    SmtpServer,
    WebhookServer,
    make_inventory,
    series,
    traffic_point,
    write,
)

REPO = Path(__file__).resolve().parents[2]

CONFIG = """\
evaluation_interval_s: 60
delivery: {{backoff_initial_s: 10, backoff_max_s: 300, expire_s: 3600}}
rules:
  - {{name: utilization, kind: utilization, warning_pct: 80, critical_pct: 95, clear_pct: 70, for_s: 300}}
  - {{name: line_down, kind: line_down, consecutive_polls: 3}}
  - {{name: device_unreachable, kind: device_unreachable, consecutive_polls: 3}}
  - {{name: no_data, kind: no_data, after_s: 600, lookback_s: 3600, enabled: {no_data}}}
{more_rules}route:
  receiver: noc
  group_by: [rule, department]
  group_wait_s: 30
  group_interval_s: 300
  repeat_interval_s: 3600
  routes:
    - matchers: ['department="Operations"']
      receiver: ops
      continue: true
    - matchers: ['severity="critical"']
      receiver: chat
receivers:
  - name: noc
    email: {{host: 127.0.0.1, port: {smtp_port}, tls: none, from: lw@example.net, to: [noc@example.net]}}
  - name: ops
    email: {{host: 127.0.0.1, port: {smtp_port}, tls: none, from: lw@example.net,
             to: [ops@example.net, oncall@example.net]}}
  - name: chat
    slack: {{webhook_url: "{webhook_url}"}}
{extra}"""

LINES = (
    {"id": "FRA-1", "department": "Operations"},
    {"id": "FRA-2", "department": "Operations"},
    {"id": "LON-1", "department": "Finance", "device": "r2", "site": "London"},
    {"id": "PLAN-1", "department": "Operations", "status": "planned"},
    {"id": "OFF-1", "department": "Operations", "status": "offline"},
)


@dataclass
class Harness:
    tmp_path: Path
    influx: InfluxClient
    clock: Clock
    smtp_port: int
    webhook: WebhookServer
    inventory: Inventory
    extra: str = ""
    more_rules: str = ""  # rule lines appended to the rules list
    no_data: bool = False  # most stories below are about other rules: their quiet lines need no data points
    service: AlertService | None = None

    @property
    def config_path(self) -> Path:
        return self.tmp_path / "alerts.yaml"

    @property
    def state_path(self) -> Path:
        return self.tmp_path / "state" / "alerts.sqlite"

    def start(self) -> AlertService:
        self.config_path.write_text(CONFIG.format(smtp_port=self.smtp_port, webhook_url=self.webhook.url,
                                                  extra=self.extra, no_data=str(self.no_data).lower(),
                                                  more_rules=self.more_rules), encoding="utf-8")
        config = load_alerts(self.config_path, inventory=self.inventory)
        self.service = AlertService(config=config, inventory=self.inventory, client=self.influx,
                                    store=AlertStore(self.state_path), clock=self.clock)
        return self.service

    def restart(self) -> AlertService:
        """A new process' view: a fresh service over the same state file (the old one is simply dropped)."""
        return self.start()

    def tick(self, advance_s: float = 0) -> tuple[Any, list[int], Any]:
        self.clock.advance(advance_s)
        assert self.service is not None
        return self.service.tick()

    def write(self, points: list[Point]) -> None:
        write(self.influx, points)


@pytest.fixture
def harness(tmp_path: Path, influx: InfluxClient, clock: Clock, webhook: WebhookServer) -> Iterator[Harness]:
    h = Harness(tmp_path, influx, clock, free_tcp_port(), webhook, make_inventory(*LINES))
    yield h
    if h.service is not None:
        h.service.close()


@pytest.fixture
def mailbox(harness: Harness, smtp_factory: Callable[..., SmtpServer]) -> SmtpServer:
    return smtp_factory("plain", port=harness.smtp_port)


def saturated(line: str, *, minutes: int = 10, util: float = 88.0, end: int = T0) -> list[Point]:
    return series(line, end - minutes * 60, [util] * minutes)


def quiet(line: str, *, minutes: int = 10, end: int = T0) -> list[Point]:
    return series(line, end - minutes * 60, [20.0] * minutes)


def mails_to(server: SmtpServer, address: str) -> list[Any]:
    return [m for m, rcpt in zip(server.messages, server.recipients, strict=True) if address in rcpt]


def states(service: AlertService) -> dict[str, tuple[str, str]]:
    return {k: (a.status.state.value, a.status.severity.value) for k, a in service.store.alerts().items()}


# -- rules on real data --------------------------------------------------------------------------------------------


def test_single_spike_does_not_fire_but_sustained_saturation_does(harness: Harness, mailbox: SmtpServer) -> None:
    service = harness.start()
    spike = [20.0] * 4 + [100.0] + [20.0] * 5
    harness.write(saturated("FRA-1") + series("FRA-2", T0 - 600, spike) + quiet("LON-1"))
    report, _, _ = harness.tick()
    assert states(service) == {"utilization/FRA-1": ("firing", "warning")}
    assert [a.key for a in report.changes] == ["utilization/FRA-1"]


def test_email_names_line_circuit_department_capacity_since_and_dashboard(harness: Harness,
                                                                          mailbox: SmtpServer) -> None:
    harness.start()
    harness.write(saturated("FRA-1") + quiet("FRA-2") + quiet("LON-1"))
    harness.tick()
    assert mailbox.messages == []  # group_wait
    harness.tick(30)
    (msg,) = mailbox.messages
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "FRA-1" in msg["Subject"] and "WARNING" in msg["Subject"]
    for expected in ("FRA-1", "CIR-0000", "Operations", "88.0 %", "100 Mbit/s", "2026-11-25 11:54 UTC",
                     "http://localhost:3000/d/linewatch-line?var-line=FRA-1"):
        assert expected in text
        assert expected in html
    assert sorted(mailbox.recipients[0]) == ["oncall@example.net", "ops@example.net"]


def test_hysteresis_keeps_firing_above_clear_and_resolves_below(harness: Harness, mailbox: SmtpServer) -> None:
    service = harness.start()
    harness.write(saturated("FRA-1"))
    harness.tick()
    harness.tick(30)
    harness.write(series("FRA-1", T0, [75.0, 76.0, 74.0]))  # below 80, above the clear level 70
    harness.tick(150)
    assert states(service)["utilization/FRA-1"] == ("firing", "warning")
    harness.write(series("FRA-1", T0 + 180, [60.0]))
    harness.tick(60)
    assert states(service)["utilization/FRA-1"] == ("resolved", "warning")
    harness.tick(300)  # group_interval after the firing mail
    subjects = [m["Subject"] for m in mailbox.messages]
    assert len(subjects) == 2 and "RESOLVED" in subjects[1], subjects
    assert "back to 60.0 %" in mailbox.messages[1].get_body(("plain",)).get_content()


def test_routing_by_department(harness: Harness, mailbox: SmtpServer) -> None:
    harness.start()
    harness.write(saturated("FRA-1") + saturated("LON-1"))
    harness.tick()
    harness.tick(30)
    assert ["FRA-1" in m["Subject"] for m in mails_to(mailbox, "ops@example.net")] == [True]
    assert ["LON-1" in m["Subject"] for m in mails_to(mailbox, "noc@example.net")] == [True]
    assert harness.webhook.bodies == []  # warnings do not page


def test_grouping_and_repeat_interval(harness: Harness, mailbox: SmtpServer) -> None:
    harness.start()
    harness.write(saturated("FRA-1") + saturated("FRA-2"))
    harness.tick()
    harness.tick(30)
    (grouped,) = mailbox.messages
    assert "FIRING:2" in grouped["Subject"]
    body = grouped.get_body(("plain",)).get_content()
    assert "FRA-1" in body and "FRA-2" in body
    harness.write(saturated("FRA-1", minutes=60, end=T0 + 3600) + saturated("FRA-2", minutes=60, end=T0 + 3600))
    harness.tick(1800)
    assert len(mailbox.messages) == 1  # nothing changed: no resend before repeat_interval
    harness.tick(1800)
    assert len(mailbox.messages) == 2  # repeat_interval (1 h) after the first send


def test_acknowledged_alert_is_not_repeated(harness: Harness, mailbox: SmtpServer) -> None:
    service = harness.start()
    harness.write(saturated("FRA-1"))
    harness.tick()
    harness.tick(30)
    alert = service.store.alerts()["utilization/FRA-1"]
    assert alert.id is not None
    service.store.acknowledge(alert.id, by="alice", comment="ordering an upgrade", now_s=harness.clock())
    harness.write(saturated("FRA-1", minutes=70, end=T0 + 3700))
    harness.tick(3700)
    assert len(mailbox.messages) == 1


def test_maintenance_window_mutes_notifications(harness: Harness, mailbox: SmtpServer) -> None:
    # T0 is Wednesday 12:00 UTC.
    harness.extra = ("maintenance_windows:\n  - {name: works, matchers: ['site=\"Frankfurt\"'], weekdays: [wednesday],"
                     " start_time: '11:00', end_time: '13:00'}\n")
    service = harness.start()
    harness.write(saturated("FRA-1"))
    harness.tick()
    harness.tick(600)
    assert mailbox.messages == []
    assert states(service)["utilization/FRA-1"] == ("firing", "warning")  # tracked, only muted
    harness.write(saturated("FRA-1", minutes=60, end=T0 + 3630))
    harness.tick(3030)  # 13:00:30, the window is over
    harness.tick(30)
    assert len(mailbox.messages) == 1


def test_silence_mutes_until_it_expires(harness: Harness, mailbox: SmtpServer) -> None:
    service = harness.start()
    silence = service.store.add_silence(matchers=['line="FRA-1"'], starts_s=T0, ends_s=T0 + 3600,
                                        reason="carrier works", created_by="bob", now_s=T0)
    harness.write(saturated("FRA-1") + saturated("LON-1"))
    harness.tick()
    harness.tick(30)
    assert [m["Subject"] for m in mailbox.messages if "FRA-1" in m["Subject"]] == []
    assert len(mailbox.messages) == 1  # LON-1 is not silenced
    service.store.expire_silence(silence.id, now_s=harness.clock())
    harness.write(saturated("FRA-1", end=T0 + 60))
    harness.tick(30)
    harness.tick(30)
    assert len([m for m in mailbox.messages if "FRA-1" in m["Subject"]]) == 1


def test_no_data_alert_and_inactive_lines_ignored(harness: Harness, mailbox: SmtpServer) -> None:
    harness.no_data = True
    service = harness.start()
    harness.write(quiet("FRA-1", end=T0 - 900) + quiet("FRA-2") + saturated("PLAN-1") + saturated("OFF-1")
                  + [traffic_point("OFF-1", T0 - 60, oper=OperStatus.DOWN)])
    harness.tick()
    assert states(service) == {"no_data/FRA-1": ("firing", "warning"), "no_data/LON-1": ("firing", "warning")}


def test_alert_of_a_line_that_is_no_longer_active_is_resolved(harness: Harness, mailbox: SmtpServer) -> None:
    service = harness.start()
    harness.write(saturated("FRA-1", minutes=30, end=T0 + 1200) + quiet("FRA-2", minutes=30, end=T0 + 1200))
    harness.tick()
    harness.tick(30)
    assert states(service) == {"utilization/FRA-1": ("firing", "warning")}
    harness.inventory = make_inventory(*({**line, "status": "offline"} if line["id"] == "FRA-1" else line
                                         for line in LINES))
    service = harness.restart()  # the line was taken out of service: the evaluator only reads active lines
    harness.tick(300)
    assert states(service) == {"utilization/FRA-1": ("resolved", "warning")}
    assert ["RESOLVED" in m["Subject"] for m in mailbox.messages] == [False, True]


def test_line_down_for_consecutive_polls_is_critical_and_pages(harness: Harness, mailbox: SmtpServer) -> None:
    service = harness.start()
    down = [traffic_point("FRA-1", T0 - 180 + 60 * i, util=0, oper=OperStatus.DOWN) for i in range(3)]
    admin_down = [traffic_point("FRA-2", T0 - 180 + 60 * i, util=0, oper=OperStatus.DOWN, admin=OperStatus.DOWN)
                  for i in range(3)]
    harness.write(quiet("FRA-1", end=T0 - 180) + down + admin_down + quiet("LON-1"))
    harness.tick()
    assert states(service) == {"line_down/FRA-1": ("firing", "critical")}
    harness.tick(30)
    assert len(harness.webhook.bodies) == 1
    blocks = json.dumps(harness.webhook.bodies[0])
    assert "FRA-1" in blocks and "CRITICAL" in blocks and "var-line=FRA-1" in blocks


def test_device_unreachable_inhibits_the_no_data_of_its_lines(harness: Harness, mailbox: SmtpServer) -> None:
    harness.no_data = True
    service = harness.start()
    polls = [Point("collector_poll", {"device": "r1", "collector": "c1"}, {"ok": 0}, (T0 - 180 + 60 * i) * 10**9)
             for i in range(3)]
    polls += [Point("collector_poll", {"device": "r2", "collector": "c1"}, {"ok": 1}, (T0 - 60) * 10**9)]
    harness.write(polls + quiet("FRA-1", end=T0 - 1200) + quiet("FRA-2", end=T0 - 1200) + quiet("LON-1"))
    harness.tick()
    assert states(service) == {"device_unreachable/r1": ("firing", "critical"), "no_data/FRA-1": ("firing", "warning"),
                               "no_data/FRA-2": ("firing", "warning")}
    harness.tick(30)
    subjects = [m["Subject"] for m in mailbox.messages]
    assert subjects and all("no_data" not in s for s in subjects), subjects
    assert any("device r1 unreachable" in s for s in subjects)


def test_one_query_per_rule_for_all_lines(harness: Harness, mailbox: SmtpServer) -> None:
    harness.no_data = True
    service = harness.start()
    queries: list[str] = []
    real = harness.influx.query

    def spy(q: str, **kw: Any) -> Any:
        queries.append(q)
        return real(q, **kw)

    harness.influx.query = spy  # type: ignore[method-assign]
    harness.write(saturated("FRA-1") + saturated("FRA-2") + saturated("LON-1"))
    service.evaluate()
    assert len(queries) == 4
    assert all('GROUP BY' in q and ('"line"' in q or '"device"' in q) for q in queries)


def test_state_changes_are_written_as_alert_events(harness: Harness, mailbox: SmtpServer) -> None:
    harness.start()
    harness.write(saturated("FRA-1"))
    report, _, _ = harness.tick()
    assert report.events_written == 1
    (row,) = harness.influx.query('SELECT "state", "firing", "value", "since_s", "rule", "severity", "department" '
                                  'FROM "alert_events"')[0]["values"]
    assert row[1:] == ["firing", 1, 88.0, T0 - 360, "utilization", "warning", "Operations"]


def test_error_rate_fires_on_sustained_errors_not_on_a_burst(harness: Harness, mailbox: SmtpServer) -> None:
    harness.more_rules = ("  - {name: errors, kind: error_rate, fields: [in_errors_ps], warning_ps: 5, critical_ps: 50,"
                          " for_s: 300}\n")
    service = harness.start()
    burst = [0.0] * 4 + [400.0] + [0.0] * 5
    harness.write(series("FRA-1", T0 - 600, [20.0] * 10, errors_ps=8.0)
                  + [traffic_point("FRA-2", T0 - 600 + 60 * i, util=20.0, errors_ps=e) for i, e in enumerate(burst)]
                  + quiet("LON-1"))
    harness.tick()
    assert states(service) == {"errors/FRA-1": ("firing", "warning")}
    harness.tick(30)
    (msg,) = mailbox.messages
    assert "FRA-1 in_errors_ps at 8.00/s" in msg.get_body(("plain",)).get_content()


def test_department_and_line_overrides_change_the_evaluation(harness: Harness, mailbox: SmtpServer) -> None:
    harness.extra = ("overrides:\n"
                     "  - {rule: utilization, department: Finance, set: {warning_pct: 90, clear_pct: 85}}\n"
                     "  - {rule: utilization, line: FRA-2, set: {for_s: 900}}\n")
    service = harness.start()
    harness.write(saturated("FRA-1") + saturated("FRA-2") + saturated("LON-1"))
    harness.tick()
    # FRA-1: the rule's defaults; FRA-2: 10 minutes are not its 15; LON-1 (Finance): 88 % is below its 90 %.
    assert states(service) == {"utilization/FRA-1": ("firing", "warning"), "utilization/FRA-2": ("pending", "warning")}
    harness.write(saturated("FRA-2", minutes=6, end=T0 + 360) + saturated("LON-1", minutes=6, end=T0 + 360, util=93.0))
    harness.tick(360)
    assert states(service)["utilization/FRA-2"] == ("firing", "warning")
    assert states(service)["utilization/LON-1"] == ("firing", "warning")


# -- never lose, never duplicate -------------------------------------------------------------------------------------


def test_smtp_down_then_up_delivers_exactly_once(harness: Harness, smtp_factory: Callable[..., SmtpServer]) -> None:
    service = harness.start()
    harness.write(saturated("FRA-1"))
    harness.tick()
    _, queued, dispatch = harness.tick(30)
    assert len(queued) == 1 and len(dispatch.failed) == 1  # nothing listens on the SMTP port
    _, _, dispatch = harness.tick(5)
    assert dispatch.failed == [] and dispatch.delivered == []  # backing off (10 s)
    server = smtp_factory("plain", port=harness.smtp_port)
    _, _, dispatch = harness.tick(10)
    assert dispatch.delivered == queued
    for _ in range(3):
        harness.tick(600)
    assert len(server.messages) == 1
    (msg,) = service.store.messages()
    assert msg.status is DeliveryStatus.DELIVERED and msg.attempts == 2


def test_messages_of_a_group_arrive_in_order_after_an_outage(harness: Harness,
                                                              smtp_factory: Callable[..., SmtpServer]) -> None:
    """Regression: a 'resolved' queued while the 'firing' was backing off was delivered first when SMTP came back."""
    service = harness.start()
    harness.write(saturated("FRA-1"))
    harness.tick()
    for advance in (30, 10, 20, 40):  # the firing message fails 4 times: next attempt 80 s later (T0 + 180)
        harness.tick(advance)
    harness.write(series("FRA-1", T0 + 120, [60.0]))
    harness.tick(80)  # fails a 5th time (next attempt at T0 + 340); the alert resolves
    assert states(service)["utilization/FRA-1"] == ("resolved", "warning")
    server = smtp_factory("plain", port=harness.smtp_port)
    _, queued, dispatch = harness.tick(150)  # T0 + 330: the resolved message is queued and due, the firing one not
    assert len(queued) == 1
    assert dispatch.delivered == [queued[0] - 1, queued[0]]
    harness.tick(600)
    assert ["RESOLVED" in m["Subject"] for m in server.messages] == [False, True]


def test_a_group_backs_off_as_a_whole_while_its_receiver_fails(harness: Harness, mailbox: SmtpServer) -> None:
    """Keeping a group's order must not defeat the backoff: while the older message backs off, the newer one waits
    with it instead of dragging it to the webhook every round."""
    harness.start()
    harness.webhook.script = [(500, {})] * 6
    harness.write([traffic_point("FRA-1", T0 - 180 + 60 * i, oper=OperStatus.DOWN) for i in range(3)]
                  + [traffic_point("FRA-1", T0 + 40)])
    harness.tick()
    harness.tick(30)  # the firing message: attempt 1 fails; the line comes back at T0 + 40
    for _ in range(59):  # until T0 + 620: attempts at +40, +60, +100, +180 and +330 (the resolved is queued)
        harness.tick(10)
    assert harness.webhook.attempts == 6 and harness.webhook.bodies == []
    harness.tick(10)  # T0 + 630: the firing message's backoff ends; both go, in order
    assert harness.webhook.attempts == 8
    assert ["RESOLVED" in b["text"] for b in harness.webhook.bodies] == [False, True]


def test_webhook_500_then_200_delivers_exactly_once(harness: Harness, mailbox: SmtpServer) -> None:
    harness.start()
    harness.webhook.script = [(500, {}), (500, {})]
    harness.write([traffic_point("FRA-1", T0 - 180 + 60 * i, oper=OperStatus.DOWN) for i in range(3)])
    harness.tick()
    _, _, d1 = harness.tick(30)
    _, _, d2 = harness.tick(10)
    _, _, d3 = harness.tick(20)
    assert (len(d1.failed), len(d2.failed), len(d3.delivered)) == (1, 1, 1)
    for _ in range(3):
        harness.tick(600)
    assert harness.webhook.attempts == 3
    assert len(harness.webhook.bodies) == 1


def test_webhook_429_retry_after_is_honoured(harness: Harness, mailbox: SmtpServer) -> None:
    harness.start()
    harness.webhook.script = [(429, {"Retry-After": "120"})]
    harness.write([traffic_point("FRA-1", T0 - 180 + 60 * i, oper=OperStatus.DOWN) for i in range(3)])
    harness.tick()
    harness.tick(30)
    harness.tick(100)  # the 10 s backoff would have retried by now; Retry-After says 120 s
    assert harness.webhook.attempts == 1
    harness.tick(25)
    assert harness.webhook.attempts == 2 and len(harness.webhook.bodies) == 1


def test_webhook_429_retry_after_holds_every_message_to_that_receiver(harness: Harness, mailbox: SmtpServer) -> None:
    """Regression: after a 429 the next group's message was posted on the next round, ignoring Retry-After."""
    harness.start()
    harness.webhook.script = [(429, {"Retry-After": "120"})]
    harness.write([traffic_point(line, T0 - 180 + 60 * i, oper=OperStatus.DOWN)
                   for line in ("FRA-1", "LON-1") for i in range(3)])
    harness.tick()
    harness.tick(30)  # two groups (Operations, Finance) for the Slack receiver: the first post gets the 429
    assert harness.webhook.attempts == 1
    for _ in range(10):
        harness.tick(10)  # the other group's message is due, but the webhook asked for 120 s of quiet
    assert harness.webhook.attempts == 1
    harness.tick(25)
    assert harness.webhook.attempts == 3 and len(harness.webhook.bodies) == 2


def test_undeliverable_message_expires_loudly(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    service = harness.start()
    harness.write(saturated("FRA-1"))
    harness.tick()
    harness.tick(30)
    for _ in range(15):
        harness.tick(300)
    first = service.store.messages()[0]  # (later ones are the hourly repeats, still being retried)
    assert first.status is DeliveryStatus.EXPIRED and first.attempts > 5
    assert any("EXPIRED undelivered" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


def test_restart_after_delivery_does_not_resend(harness: Harness, mailbox: SmtpServer) -> None:
    harness.start()
    harness.write(saturated("FRA-1", minutes=30, end=T0 + 1200))
    harness.tick()
    harness.tick(30)
    assert len(mailbox.messages) == 1
    harness.restart()
    harness.tick(60)
    harness.tick(300)
    assert len(mailbox.messages) == 1


def test_restart_keeps_pending_alerts_and_their_start(harness: Harness, mailbox: SmtpServer) -> None:
    service = harness.start()
    harness.write(saturated("FRA-1", minutes=3))
    harness.tick()
    assert states(service) == {"utilization/FRA-1": ("pending", "warning")}
    service = harness.restart()
    harness.write(series("FRA-1", T0, [88.0, 88.0, 88.0]))
    harness.tick(180)
    alert = service.store.alerts()["utilization/FRA-1"]
    assert alert.status.state is AlertState.FIRING and alert.status.since_s == T0 - 180


_KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from linewatch.influx import InfluxClient, InfluxSettings
    from alerting.config import load_alerts
    from alerting.service import AlertService
    from alerting.store import AlertStore
    from tests.alerting.conftest import make_inventory
    from tests.alerting.test_alerting_service import LINES
    url, db, config_path, state_path, now = sys.argv[1:6]
    inventory = make_inventory(*LINES)
    service = AlertService(config=load_alerts(config_path, inventory=inventory), inventory=inventory,
                           client=InfluxClient(InfluxSettings(url=url, database=db)),
                           store=AlertStore(state_path, exclusive=True),
                           clock=lambda: float(now))
    service.evaluate()
    service.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # killed after queueing, before delivering
""")


def test_evaluator_killed_mid_way_neither_loses_nor_duplicates(harness: Harness, mailbox: SmtpServer,
                                                               influx_db: tuple[str, str]) -> None:
    harness.start()
    harness.write(saturated("FRA-1", minutes=30, end=T0 + 1200))
    harness.tick()  # pending group_wait
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, *influx_db, str(harness.config_path), str(harness.state_path),
         str(T0 + 30)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert mailbox.messages == []
    AlertStore(harness.state_path, exclusive=True).close()  # the dead process' lock is gone
    harness.restart()
    harness.tick(30)  # the restarted evaluator delivers what the killed one queued
    harness.tick(60)
    harness.tick(300)
    assert len(mailbox.messages) == 1
