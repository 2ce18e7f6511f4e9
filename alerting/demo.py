"""The alerting stage of ``make run``: a demo mailbox, a demo Slack-webhook sink, and the evaluator.

* Demo mailbox: an SMTP server (aiosmtpd) on 127.0.0.1:18025 writing every message it receives as a ``.eml`` file
  into ``<run_dir>/mailbox/`` (open them with any mail client, or read them as text).
* Demo webhook sink: an HTTP server on 127.0.0.1:18089 writing every JSON body it receives into
  ``<run_dir>/webhook/`` (what Slack would have shown).
* The evaluator runs with ``config/alerts.yaml`` (whose receivers point at the two sinks) until the demo stops;
  alert state lives in ``<run_dir>/var/alerts.sqlite`` (started afresh by every demo run).

With the demo network, the saturated line FRA-MPLS-1 (≈88 % of its 100 Mbit/s commit) produces an 80 % warning
email within the first minute or two, and the down line AMS-MPLS-1 a critical one (plus a Slack-style webhook).
Once the billing stage's trends run has written the outlook, the growing PAR-INET-1 raises ``capacity_forecast``;
FRA-INET-1's surge (collector.demo.model's story) raises ``traffic_anomaly`` against the backfilled five weeks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from alerting.config import AlertsConfig, load_alerts
from alerting.service import AlertService
from alerting.store import AlertStore
from alerting.voice_calls import load_voice_facts
from linewatch.errors import ServerError
from linewatch.inventory_source import InventorySource

log = logging.getLogger(__name__)

DEMO_SMTP_PORT = 18025
DEMO_WEBHOOK_PORT = 18089
HOST = "127.0.0.1"


class _MailboxHandler:
    def __init__(self, folder: Path):
        self.folder = folder
        self._count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode()
        msg = message_from_bytes(data, policy=default_policy)
        with self._lock:
            self._count += 1
            n = self._count
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        rcpt = "+".join(r.split("@")[0] for r in envelope.rcpt_tos)[:60]
        path = self.folder / f"{stamp}-{n:04d}-{rcpt}.eml"
        header = f"X-Demo-Envelope-From: {envelope.mail_from}\r\nX-Demo-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        path.write_bytes(header.encode() + data)
        log.info("demo mailbox: %s → %s: %s", envelope.mail_from, envelope.rcpt_tos, msg.get("Subject"))
        return "250 Message accepted for delivery"


class DemoMailbox:
    """An SMTP server (no TLS, no auth: loopback only) that stores each message as ``<folder>/*.eml``."""

    def __init__(self, folder: Path, *, port: int = DEMO_SMTP_PORT, host: str = HOST):
        self.folder = Path(folder)
        self.port = port
        self.host = host
        self._controller: Controller | None = None

    def start(self) -> DemoMailbox:
        self.folder.mkdir(parents=True, exist_ok=True)
        controller = Controller(_MailboxHandler(self.folder), hostname=self.host, port=self.port)
        try:
            controller.start()
        except Exception as exc:  # aiosmtpd re-raises the bind error of its thread
            raise ServerError(f"demo mailbox: cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))


class WebhookSink:
    """An HTTP server that answers 200 ``ok`` (like Slack) and stores each JSON body as ``<folder>/*.json``."""

    def __init__(self, folder: Path, *, port: int = DEMO_WEBHOOK_PORT, host: str = HOST):
        self.folder = Path(folder)
        self.port = port
        self.host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookSink:
        self.folder.mkdir(parents=True, exist_ok=True)
        folder = self.folder
        counter = iter(range(1, 10**9))
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    parsed = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(b"invalid_payload")
                    return
                with lock:
                    n = next(counter)
                stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
                (folder / f"{stamp}-{n:04d}.json").write_text(json.dumps(parsed, indent=2), encoding="utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("webhook sink: " + format, *args)

        try:
            self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as exc:
            raise ServerError(f"demo webhook sink: cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self) -> list[Path]:
        return sorted(self.folder.glob("*.json"))


def sink_ports(config: AlertsConfig) -> tuple[int, int]:
    """The loopback ports the demo receivers in alerts.yaml point at: ``(smtp_port, webhook_port)``."""
    smtp, hook = DEMO_SMTP_PORT, DEMO_WEBHOOK_PORT
    for r in config.receivers:
        if r.email is not None and r.email.host in (HOST, "localhost"):
            smtp = r.email.effective_port
        if r.slack is not None:
            url = urlsplit(r.slack.webhook_url.get_secret_value())
            if url.hostname in (HOST, "localhost") and url.port:
                hook = url.port
    return smtp, hook


def demo_state_file(ctx: Any) -> Path:
    return Path(ctx.run_dir) / "var" / "alerts.sqlite"


def build_demo_service(ctx: Any) -> AlertService:
    """The evaluator of the demo: config/alerts.yaml, the demo inventory, state under ``<run_dir>/var``."""
    settings = ctx.settings
    config = load_alerts(settings.resolve(settings.alerts_path), inventory=ctx.inventory)
    store = AlertStore(demo_state_file(ctx), exclusive=True)
    client = getattr(ctx, "influx", None) or ctx.influx_client
    # inventory.source http (the management application's demo entry sets it): asked at every evaluation.
    from_app = settings.inventory.source == "http"
    return AlertService(config=config, inventory=ctx.inventory, client=client, store=store, grafana=settings.grafana,
                        inventory_source=InventorySource(settings) if from_app else None,
                        voice=load_voice_facts(settings))  # toll-fraud alerts name the numbers called


def demo_stage(ctx: Any) -> None:
    """Run the demo mailbox, the webhook sink and the evaluator until ``ctx.stop_event`` is set."""
    run_dir = Path(ctx.run_dir)
    # Every demo run tells its story from the start: alerts that fired in an earlier run would otherwise be
    # "already notified" and send nothing new. (A production evaluator keeps its state: that is the point of it.)
    state = demo_state_file(ctx)
    AlertStore(state, exclusive=True).close()  # refuses if another demo evaluator uses this run dir
    for leftover in state.parent.glob(state.name + "*"):
        if not leftover.name.endswith(".lock"):
            leftover.unlink()
    service = build_demo_service(ctx)
    smtp_port, webhook_port = sink_ports(service.config)
    mailbox = DemoMailbox(run_dir / "mailbox", port=smtp_port)
    sink = WebhookSink(run_dir / "webhook", port=webhook_port)
    try:
        mailbox.start()
        sink.start()
        print(f"alerts: evaluating every {service.config.evaluation_interval_s:g} s; emails in {mailbox.folder}/, "
              f"webhooks in {sink.folder}/ (`linewatch alerts list` shows the alerts)", flush=True)
        service.run(ctx.stop_event)
    finally:
        service.close()
        sink.stop()
        mailbox.stop()
