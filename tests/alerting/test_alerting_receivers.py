"""Receivers against real servers: aiosmtpd with STARTTLS / implicit TLS and AUTH, an HTTP server as Slack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alerting.config import EmailReceiver, SlackReceiver
from alerting.receivers import EmailSender, SlackSender
from linewatch.errors import DeliveryError
from linewatch.servers.ports import free_tcp_port
from tests.alerting.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer, WebhookServer

PAYLOAD: dict[str, Any] = {
    "receiver": "r", "group_key": "0:{rule=utilization}", "group_labels": {"rule": "utilization"},
    "reason": "group_wait", "created_s": 1_795_608_000, "resolved": [],
    "firing": [{
        "id": 7, "key": "utilization/FRA-MPLS-1", "rule": "utilization", "kind": "utilization", "state": "firing",
        "severity": "warning", "since_s": 1_795_607_400, "changed_s": 1_795_608_000, "value": 87.5,
        "labels": {"line": "FRA-MPLS-1", "carrier": "Orange Business", "department": "Operations",
                   "site": "Frankfurt", "device": "fra-edge-1", "scope": "line", "rule": "utilization"},
        "info": {"circuit_id": "OBS-FR-77812", "capacity_bps": 100_000_000, "warning": 80.0, "for_s": 300,
                 "interface": "ge-0/0/1", "grafana_url": "http://grafana.example/d/linewatch-line?var-line=FRA-MPLS-1"},
    }],
}


def _email(port: int, tls: str, cert: Path | None, **kw: Any) -> EmailSender:
    config = EmailReceiver.model_validate({
        "host": "127.0.0.1", "port": port, "tls": tls, "from": "linewatch@example.net",
        "to": ["noc@example.net", "oncall@example.net"], "ca_file": cert, "timeout_s": 5, **kw})
    return EmailSender("mail", config)


# aiosmtpd warns about AUTH without STARTTLS even when the connection is implicit TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("mode", ["starttls", "implicit"], ids=["starttls-587-style", "implicit-tls-465-style"])
def test_email_over_tls_with_auth_reaches_every_recipient(mode: str, smtp_factory: Callable[..., SmtpServer],
                                                          tls_cert: tuple[Path, Path]) -> None:
    server = smtp_factory(mode)
    sender = _email(server.port, mode, tls_cert[0], username=SMTP_USER, password=SMTP_PASSWORD)
    sender.send(PAYLOAD, message_id="7.1795608000")
    (msg,) = server.messages
    assert server.logins == [SMTP_USER]
    assert sorted(server.recipients[0]) == ["noc@example.net", "oncall@example.net"]
    assert msg["Message-ID"] == "<linewatch.7.1795608000@example.net>"
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    text = msg.get_body(("plain",)).get_content()
    assert "OBS-FR-77812" in text and "87.5 %" in text and "100 Mbit/s" in text


def test_email_wrong_password_is_a_permanent_error_without_the_password(
        smtp_factory: Callable[..., SmtpServer], tls_cert: tuple[Path, Path]) -> None:
    server = smtp_factory("starttls")
    sender = _email(server.port, "starttls", tls_cert[0], username=SMTP_USER, password="wrong-password-x")
    with pytest.raises(DeliveryError) as info:
        sender.send(PAYLOAD, message_id="1")
    assert info.value.permanent and "authentication failed" in str(info.value)
    assert "wrong-password-x" not in str(info.value)
    assert server.messages == []


def test_email_untrusted_certificate_is_refused(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory("starttls")
    sender = _email(server.port, "starttls", None, username=SMTP_USER, password=SMTP_PASSWORD)
    with pytest.raises(DeliveryError, match="(?i)certificate"):
        sender.send(PAYLOAD, message_id="1")


def test_email_server_down_is_a_retryable_error() -> None:
    with pytest.raises(DeliveryError) as info:
        _email(free_tcp_port(), "none", None).send(PAYLOAD, message_id="1")
    assert not info.value.permanent


@pytest.mark.parametrize(
    ("status", "headers", "permanent", "retry_after"),
    [(500, {}, False, None), (429, {"Retry-After": "30"}, False, 30.0),
     (429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, False, 0.0), (429, {"Retry-After": "soon"}, False, None),
     (404, {}, True, None)],
    ids=["server-error-retries", "rate-limit-carries-retry-after", "retry-after-as-past-http-date-is-now",
         "unreadable-retry-after-falls-back-to-backoff", "not-found-is-permanent"],
)
def test_slack_errors(webhook: WebhookServer, status: int, headers: dict[str, str], permanent: bool,
                      retry_after: float | None) -> None:
    webhook.script = [(status, headers)]
    sender = SlackSender("chat", SlackReceiver.model_validate({"webhook_url": webhook.url}))
    with pytest.raises(DeliveryError) as info:
        sender.send(PAYLOAD, message_id="1")
    assert info.value.permanent is permanent
    assert info.value.retry_after_s == retry_after
    assert "XXXSECRETXXX" not in str(info.value)  # the webhook URL is a credential


def test_slack_message_is_a_readable_block_message(webhook: WebhookServer) -> None:
    sender = SlackSender("chat", SlackReceiver.model_validate({"webhook_url": webhook.url, "channel": "#noc"}))
    sender.send(PAYLOAD, message_id="1")
    (body,) = webhook.bodies
    assert body["channel"] == "#noc"
    assert "FRA-MPLS-1" in body["text"]
    section = body["blocks"][1]
    assert "<http://grafana.example/d/linewatch-line?var-line=FRA-MPLS-1|Grafana dashboard>" in section["text"]["text"]
    facts = " ".join(f["text"] for f in section["fields"])
    for expected in ("OBS-FR-77812", "Operations", "100 Mbit/s", "2026-11-25 11:50 UTC"):
        assert expected in facts


def test_slack_unreachable_error_hides_the_url() -> None:
    url = f"http://127.0.0.1:{free_tcp_port()}/services/T/B/TOPSECRET"
    sender = SlackSender("chat", SlackReceiver.model_validate({"webhook_url": url, "timeout_s": 2}))
    with pytest.raises(DeliveryError) as info:
        sender.send(PAYLOAD, message_id="1")
    assert "TOPSECRET" not in str(info.value)
