"""The webhook receiver (alerts.yaml ``webhook:``): POSTs the outbox payload with Bearer and Idempotency-Key to a
real local HTTP server; 2xx delivered, 408/429/5xx retried, other 4xx permanent; the token never in an error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from alerting.config import Receiver
from alerting.receivers import WebhookSender, build_senders
from linewatch.errors import DeliveryError
from linewatch.servers.ports import free_tcp_port

TOKEN = "intake-s3cret-token"
PAYLOAD = {"receiver": "linewatch-app", "group_key": "rule=down", "reason": "new", "created_s": 1795608000.0,
           "firing": [{"rule": "down", "line": "FRA-INET-1", "severity": "critical"}], "resolved": []}


@dataclass
class Endpoint:
    port: int
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/faults/alerts/"


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    ep = Endpoint(free_tcp_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ep.requests.append((dict(self.headers), json.loads(body)))
            status, headers = ep.answers.pop(0) if ep.answers else (201, {})
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", ep.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield ep
    server.shutdown()
    server.server_close()


def _sender(url: str, token: str = TOKEN) -> WebhookSender:
    receiver = Receiver.model_validate({"name": "linewatch-app", "webhook": {"url": url, "bearer_token": token}})
    sender = build_senders([receiver])["linewatch-app"]
    assert isinstance(sender, WebhookSender)
    return sender


def test_the_payload_is_posted_with_bearer_and_idempotency_key(endpoint):
    _sender(endpoint.url).send(PAYLOAD, message_id="42.1795608000")
    (headers, body), = endpoint.requests
    assert body == PAYLOAD
    assert headers["Authorization"] == f"Bearer {TOKEN}" and headers["Idempotency-Key"] == "42.1795608000"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("status", "headers", "permanent", "retry_after_s"), [
    (500, {}, False, None),
    (503, {"Retry-After": "30"}, False, None),
    (408, {}, False, None),
    (429, {"Retry-After": "30"}, False, 30.0),
    (400, {}, True, None),
    (401, {}, True, None),
    (404, {}, True, None),
], ids=["500", "503", "408", "429", "400", "401", "404"])
def test_failures_are_retried_or_permanent_by_status(endpoint, status, headers, permanent, retry_after_s):
    endpoint.answers = [(status, headers)]
    with pytest.raises(DeliveryError) as err:
        _sender(endpoint.url).send(PAYLOAD, message_id="1.1")
    assert (err.value.permanent, err.value.retry_after_s) == (permanent, retry_after_s)
    assert f"HTTP {status}" in str(err.value) and TOKEN not in str(err.value)


def test_an_unreachable_endpoint_is_retried_and_the_error_names_no_secret():
    url = f"http://user:pw-secret@127.0.0.1:{free_tcp_port()}/api/faults/alerts/"
    with pytest.raises(DeliveryError) as err:
        _sender(url).send(PAYLOAD, message_id="1.1")
    assert not err.value.permanent and "ConnectionError" in str(err.value)
    assert TOKEN not in str(err.value) and "pw-secret" not in str(err.value)


def test_the_token_may_come_from_the_environment_and_is_masked(monkeypatch):
    monkeypatch.setenv("LW_TEST_INTAKE_TOKEN", TOKEN)
    r = Receiver.model_validate({"name": "app", "webhook": {"url": "https://app.example/api/faults/alerts/",
                                                            "bearer_token": "${LW_TEST_INTAKE_TOKEN}"}})
    assert r.webhook is not None and r.webhook.bearer_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(r) and TOKEN not in str(r.model_dump())


@pytest.mark.parametrize(("data", "reason"), [
    ({"webhook": {"url": "ftp://x/", "bearer_token": "t"}}, "String should match pattern"),
    ({"webhook": {"url": "http://x/"}}, "bearer_token"),
    ({"webhook": {"url": "http://x/", "bearer_token": "t"}, "slack": {"webhook_url": "http://x/"}},
     "exactly one of email, slack or webhook"),
], ids=["not-http", "no-token", "two-channels"])
def test_bad_webhook_receivers_are_refused(data, reason):
    with pytest.raises(ValidationError, match=reason):
        Receiver.model_validate({"name": "app", **data})
