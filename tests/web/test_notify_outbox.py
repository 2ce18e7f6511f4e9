"""The application's outbox (web/notify/outbox.py) against the real aiosmtpd (STARTTLS + AUTH) and the HTTP
Slack sink: queued in the caller's transaction, never twice, retried after a failure, expired, no secret in
errors or logs. Also run on PostgreSQL (test_web_postgres.py), where the claim uses SKIP LOCKED."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from notify_support import SLACK_SECRET, SMTP_PASSWORD, alerting_fixtures, write_alerts_yaml

from linewatch.choices import DeliveryStatus
from linewatch.servers.ports import free_tcp_port
from web.notify.models import OutboxMessage
from web.notify.outbox import Recipient, deliver_due, enqueue, messages_about, retry

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(smtp_factory: Any) -> Any:
    return smtp_factory("starttls")


@pytest.fixture
def app_alerts(tmp_path: Any, settings: Any, smtp: Any, webhook: Any, tls_cert: Any) -> dict[str, Any]:
    """alerts.yaml with receivers on the real servers, used by the app (settings.LINEWATCH.alerts_path)."""
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0],
                             slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": path})
    return {"path": path, "smtp": smtp, "slack": webhook}


def _queue(key: str = "test:1", *, to: Any = None, **kw: Any) -> bool:
    return enqueue(key, to=to or [Recipient.email("noc@carrier.example", name="Carrier NOC")],
                   subject="Line FRA-INET-1 down", text="The line is down.\n\nPlease check.",
                   html="<p>The line is down.</p>", **kw)


def test_same_key_twice_queues_one_message_and_delivers_it_once(app_alerts):
    assert _queue() is True
    assert _queue() is False
    assert OutboxMessage.objects.count() == 1
    assert deliver_due().delivered == [OutboxMessage.objects.get().pk]
    assert deliver_due().delivered == []
    assert len(app_alerts["smtp"].messages) == 1
    assert _queue() is False  # delivered: still never again


def test_a_rolled_back_transaction_leaves_no_message(app_alerts):
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue()
        raise RuntimeError("the caller's state change failed")
    assert not OutboxMessage.objects.exists()
    assert deliver_due().delivered == []


def test_a_duplicate_key_does_not_break_the_callers_transaction(app_alerts):
    _queue()
    with transaction.atomic():
        assert _queue() is False
        OutboxMessage.objects.count()  # the transaction is still usable


def test_each_recipient_gets_the_message_through_its_channel(app_alerts, django_user_model):
    user = django_user_model.objects.create_user("kim", email="kim@example.net", first_name="Kim")
    _queue(to=[Recipient.receiver("noc-email"), Recipient.receiver("oncall-slack"),
               Recipient.email("noc@carrier.example", name="Carrier NOC"), Recipient.user(user)])
    report = deliver_due()
    assert len(report.delivered) == 1 and not report.failed
    smtp, slack = app_alerts["smtp"], app_alerts["slack"]
    assert sorted(r for rs in smtp.recipients for r in rs) == ["kim@example.net", "noc@carrier.example",
                                                                "noc@example.net"]
    assert smtp.logins == ["alerts"] * 3  # STARTTLS + AUTH with the mail receiver's credentials
    msg = smtp.messages[0]
    assert msg["Subject"] == "Line FRA-INET-1 down" and msg["From"] == "linewatch@example.net"
    assert msg.get_body(("html",)).get_content().strip() == "<p>The line is down.</p>"
    assert "The line is down." in msg.get_body(("plain",)).get_content()
    assert [b["text"] for b in slack.bodies] == ["*Line FRA-INET-1 down*\nThe line is down.\n\nPlease check."]


def test_mail_to_addresses_goes_through_the_receiver_named_by_web_mail_receiver(app_alerts, settings):
    web = settings.LINEWATCH.web.model_copy(update={"mail_receiver": "oncall-slack"})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"web": web})
    _queue()
    assert "web.mail_receiver: 'oncall-slack' is not an email receiver" in deliver_due().failed[0][1]
    web = web.model_copy(update={"mail_receiver": "noc-email"})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"web": web})
    assert len(deliver_due(timezone.now() + dt.timedelta(seconds=11)).delivered) == 1
    assert app_alerts["smtp"].messages[0]["From"] == "linewatch@example.net"


def test_a_receiver_recipient_carries_its_language_and_time_zone(app_alerts):
    r = Recipient.receiver("noc-email")
    assert (r.language, r.timezone) == ("ko", "Asia/Seoul")


@pytest.mark.parametrize(("make", "field"), [
    (lambda: Recipient.receiver("nobody"), "unknown receiver 'nobody'"),
    (lambda: Recipient.receiver("linewatch-app"), "is a webhook receiver"),
    (lambda: Recipient.email("not-an-address"), "is not an email address"),
], ids=["unknown-receiver", "webhook-receiver", "bad-address"])
def test_bad_recipients_are_refused_with_the_reason(app_alerts, make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_a_failed_delivery_is_retried_after_the_backoff_when_the_server_is_back(tmp_path, settings, smtp_factory,
                                                                                  webhook, tls_cert):
    port = free_tcp_port()
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=port, ca_file=tls_cert[0], slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": path})
    _queue()
    now = timezone.now()
    report = deliver_due(now)
    assert len(report.failed) == 1 and "SMTPConnectError" in report.failed[0][1]
    msg = OutboxMessage.objects.get()
    assert (msg.status, msg.attempts) == (DeliveryStatus.PENDING, 1)
    assert msg.next_attempt == now + dt.timedelta(seconds=10)  # backoff_initial_s
    server = smtp_factory("starttls", port=port)
    assert deliver_due(now + dt.timedelta(seconds=5)).delivered == []  # still backing off
    assert deliver_due(now + dt.timedelta(seconds=11)).delivered == [msg.pk]
    msg.refresh_from_db()
    assert (msg.status, msg.attempts, msg.last_error) == (DeliveryStatus.DELIVERED, 2, "")
    assert [e["error"] == "" for e in msg.attempt_log] == [False, True]
    assert len(server.messages) == 1


def test_a_retry_sends_only_to_the_recipients_that_failed(app_alerts):
    app_alerts["slack"].script = [(500, {})]
    _queue(to=[Recipient.receiver("noc-email"), Recipient.receiver("oncall-slack")])
    now = timezone.now()
    assert len(deliver_due(now).failed) == 1
    assert len(deliver_due(now + dt.timedelta(seconds=11)).delivered) == 1
    assert len(app_alerts["smtp"].messages) == 1  # not sent again with the Slack retry
    assert len(app_alerts["slack"].bodies) == 1


def test_a_message_undelivered_for_expire_s_expires_and_an_admin_retry_queues_it_again(tmp_path, settings,
                                                                                         webhook, tls_cert):
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=free_tcp_port(), ca_file=tls_cert[0],
                             slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": path})
    _queue()
    now = timezone.now()
    deliver_due(now)
    report = deliver_due(now + dt.timedelta(seconds=3600))
    msg = OutboxMessage.objects.get()
    assert report.expired == [msg.pk] and msg.status == DeliveryStatus.EXPIRED and msg.expired_at is not None
    assert deliver_due(now + dt.timedelta(seconds=7200)).expired == []  # expired rows are left alone
    retry(msg)
    msg.refresh_from_db()
    assert msg.status == DeliveryStatus.PENDING and msg.expired_at is None


def test_a_message_due_later_is_not_sent_before_send_after(app_alerts):
    later = timezone.now() + dt.timedelta(hours=2)
    _queue(send_after=later)
    assert deliver_due().delivered == []
    assert len(deliver_due(later).delivered) == 1


def test_no_secret_reaches_last_error_or_the_log(tmp_path, settings, smtp_factory, tls_cert, caplog):
    """The Slack URL (a credential) and a wrong SMTP password stay out of the recorded error and the log."""
    smtp = smtp_factory("starttls")
    wrong = "wr0ng-" + SMTP_PASSWORD
    dead_slack = f"http://127.0.0.1:{free_tcp_port()}/services/T000/B000/{SLACK_SECRET}"
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0],
                             slack_url=dead_slack, password=wrong)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": path})
    _queue(to=[Recipient.receiver("noc-email"), Recipient.receiver("oncall-slack")])
    with caplog.at_level(logging.DEBUG):
        report = deliver_due()
    error = OutboxMessage.objects.get().last_error
    assert "authentication failed" in error and "slack webhook: ConnectionError" in error
    assert report.failed
    for text in (error, caplog.text, str(OutboxMessage.objects.get().attempt_log)):
        assert SLACK_SECRET not in text and wrong not in text


def test_messages_about_an_object_are_found_by_it(app_alerts, django_user_model):
    user = django_user_model.objects.create_user("lee", email="lee@example.net")
    _queue("about:1", about=user)
    _queue("about:2")
    assert [m.key for m in messages_about(user)] == ["about:1"]


def test_enqueue_refuses_bad_input_naming_the_field(app_alerts):
    for kwargs, field in (({"to": []}, "to:"), ({"send_after": dt.datetime(2026, 1, 1)}, "send_after:")):
        with pytest.raises(ValueError, match=field):
            enqueue("bad", subject="s", text="t", **({"to": [Recipient.email("a@b.example")]} | kwargs))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SKIP LOCKED: PostgreSQL only")
def test_a_row_locked_by_another_worker_is_skipped_on_postgresql(app_alerts):
    """PostgreSQL: a row another worker holds (SELECT … FOR UPDATE) is skipped, not waited for."""
    import psycopg

    now = timezone.now()  # bulk_create: no change-log row, which the transactional test's flush would refuse
    pk, = (m.pk for m in OutboxMessage.objects.bulk_create([OutboxMessage(
        key="locked", recipients=[Recipient.email("noc@carrier.example").as_json()], subject="s", text="t",
        send_after=now, next_attempt=now)]))
    params = connection.get_connection_params()
    with psycopg.connect(**params) as other:
        other.execute("SELECT id FROM notify_outboxmessage WHERE id = %s FOR UPDATE", [pk])
        assert deliver_due().delivered == []
        other.rollback()
    assert deliver_due().delivered == [pk]
