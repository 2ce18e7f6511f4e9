"""From a line going down to a resolved ticket, every part real: the alert evaluator (``AlertService``) on points
written to the session's InfluxDB 1.6.7, its webhook receiver POSTing to the application (pytest-django's
``live_server``), the application's outbox mailing the carrier template through the real aiosmtpd (STARTTLS +
AUTH), and the resolution arriving the same way. The ticket's time to repair is checked to the second."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from notify_support import alerting_fixtures, write_alerts_yaml

from alerting.config import load_alerts
from alerting.service import AlertService
from alerting.store import AlertStore
from linewatch.choices import OperStatus

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook
influx = alerting_fixtures.influx
T0 = alerting_fixtures.T0
INTAKE_TOKEN = "e2e-intake-" + "t" * 24
LINE = "LINE-000"


def _evaluator_config(path: Path, *, intake_url: str) -> Path:
    """The evaluator's alerts.yaml: line_down after 3 polls, everything to the application's alert intake."""
    data = {
        "evaluation_interval_s": 60,
        "delivery": {"backoff_initial_s": 10, "backoff_max_s": 60, "expire_s": 3600},
        "rules": [{"name": "line_down", "kind": "line_down", "consecutive_polls": 3},
                  {"name": "no_data", "kind": "no_data", "enabled": False}],
        "route": {"receiver": "linewatch-app", "group_by": ["rule", "line"], "group_wait_s": 0,
                  "group_interval_s": 60, "repeat_interval_s": 3600},
        "receivers": [{"name": "linewatch-app", "send_resolved": True,
                       "webhook": {"url": intake_url, "bearer_token": INTAKE_TOKEN, "timeout_s": 10}}],
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def transactional_db(transactional_db: Any) -> Any:
    """pytest-django's, with the test's change log purged first: its flush refuses an append-only log with rows."""
    from django.core.management import call_command

    yield transactional_db
    call_command("flush", verbosity=0, interactive=False, purge_audit_log=True)


@pytest.fixture
def app(settings: Any, tmp_path: Path, smtp_factory: Any, tls_cert: Any, webhook: Any,
        influx_db: tuple[str, str]) -> dict[str, Any]:
    """The application's settings: its outbox mails through the real SMTP server, the intake token, carriers
    notified automatically (the demo's setting), the evaluator's InfluxDB for the line's last figures."""
    from pydantic import SecretStr

    smtp = smtp_factory("starttls")
    path = write_alerts_yaml(tmp_path / "app-alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0],
                             slack_url=webhook.url)
    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={
        "alerts_path": path,
        "influx": lw.influx.model_copy(update={"url": influx_db[0], "database": influx_db[1]}),
        "web": lw.web.model_copy(update={"alert_intake_token": SecretStr(INTAKE_TOKEN)}),
        "faults": lw.faults.model_copy(update={"notify_carrier_automatically": True})})
    return {"smtp": smtp}


def test_a_line_going_down_opens_a_ticket_mails_the_carrier_and_resolves_with_the_alert_to_the_second(
        transactional_db: Any, live_server: Any, app: dict[str, Any], make_inventory: Any, influx: Any,
        tmp_path: Path, monkeypatch: Any) -> None:
    from faults_support import fault_world

    from web.faults.models import Ticket
    from web.notify.outbox import deliver_due

    world = fault_world(make_inventory)
    inventory = alerting_fixtures.make_inventory({"id": LINE, "carrier": "Telia", "circuit_id": "CID-00000",
                                                  "department": "Engineering"})
    config = load_alerts(_evaluator_config(tmp_path / "alerts.yaml",
                                           intake_url=f"{live_server.url}/api/faults/alerts/"), inventory=inventory)
    clock = alerting_fixtures.Clock()
    monkeypatch.setattr("web.inventory.live.clock", clock)  # the app reads the line's figures at the story's time
    service = AlertService(config=config, inventory=inventory, client=influx,
                           store=AlertStore(tmp_path / "alerts.sqlite"), clock=clock)
    point = alerting_fixtures.traffic_point
    first_down = T0 - 180
    try:
        # 1. the line goes down at first_down: three polls later line_down fires and the intake opens a ticket.
        alerting_fixtures.write(influx, [point(LINE, T0 - 600 + 60 * i, util=20) for i in range(7)]
                                + [point(LINE, first_down + 60 * i, util=0, oper=OperStatus.DOWN) for i in range(3)])
        _, _, dispatched = service.tick()
        assert dispatched.delivered and not dispatched.failed, dispatched
        ticket = Ticket.objects.get()
        assert (ticket.line, ticket.kind, ticket.outage, ticket.alert_rule) == \
            (world["line"], "line_down", True, "line_down")
        assert ticket.opened_at == dt.datetime.fromtimestamp(first_down, dt.UTC)
        assert ticket.state == "carrier_notified"

        # 2. the worker's outbox delivery mails the carrier template to the carrier's NOC.
        assert deliver_due().delivered
        smtp = app["smtp"]
        (mail,) = [m for m, rcpt in zip(smtp.messages, smtp.recipients, strict=True) if "noc@telia.example" in rcpt]
        assert "CID-00000" in mail["Subject"] and f"LW-FAULT-{ticket.pk}" in mail["Subject"]
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert "Frankfurt" in body and LINE in body and "down" in body.lower()
        assert "last sample" in body and "in 0 bit/s (0.0 %)" in body  # the line's last figures from InfluxDB

        # 3. the line comes back; the next evaluation resolves the alert and, through the intake, the ticket.
        resolved_s = T0 + 240
        clock.advance(resolved_s - T0)
        alerting_fixtures.write(influx, [point(LINE, T0 + 60 * i, util=20) for i in range(1, 5)])
        _, _, dispatched = service.tick()
        assert dispatched.delivered and not dispatched.failed, dispatched
        ticket.refresh_from_db()
        assert ticket.state == "resolved"
        assert ticket.resolved_at == dt.datetime.fromtimestamp(resolved_s, dt.UTC)
        assert ticket.duration_s == resolved_s - first_down  # the MTTR of this incident, to the second
        kinds = list(ticket.events.values_list("kind", flat=True))
        assert kinds[:2] == ["opened", "alert_fired"] and "carrier_notified" in kinds and "alert_resolved" in kinds

        # 4. the evaluator's retry of a delivered notification (same Idempotency-Key) changes nothing.
        assert Ticket.objects.count() == 1
    finally:
        service.close()
