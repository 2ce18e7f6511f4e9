"""Files sent with outbox messages (web/notify/outbox.py ``Attachment``): stored with the message, delivered through
the real aiosmtpd (STARTTLS + AUTH) as MIME parts byte for byte, named on Slack, refused above 10 MiB. Also run on
PostgreSQL (test_web_postgres.py), where the BinaryField comes back as a memoryview."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

import pytest
from django.utils import timezone
from notify_support import alerting_fixtures, write_alerts_yaml

from linewatch.servers.ports import free_tcp_port
from web.audit.models import ObjectChange
from web.notify import outbox
from web.notify.models import OutboxAttachment, OutboxMessage
from web.notify.outbox import Attachment, Recipient, attachments_of, deliver_due, enqueue

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook

pytestmark = pytest.mark.django_db

PDF = Attachment("DSP-7 증빙.pdf", "application/pdf", b"%PDF-1.7\n" + os.urandom(200_000) + b"\r\n\x00%%EOF")
XLSX = Attachment("DSP-7-evidence.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  b"PK\x03\x04" + bytes(range(256)) * 300)


@pytest.fixture
def app_alerts(tmp_path: Any, settings: Any, smtp_factory: Any, webhook: Any, tls_cert: Any) -> dict[str, Any]:
    smtp = smtp_factory("starttls")
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0],
                             slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": path})
    return {"smtp": smtp, "slack": webhook}


def _queue(key: str = "dispute-notice-7", *, to: Any = None, attachments: Any = (PDF, XLSX)) -> bool:
    return enqueue(key, to=to or [Recipient.email("billing@carrier.example", name="Carrier billing")],
                   subject="Dispute DSP-7", text="Please find the evidence attached.", html="<p>Evidence</p>",
                   language="ko", attachments=attachments)


def test_attachments_arrive_byte_identical_by_email_through_starttls_and_auth(app_alerts):
    _queue(to=[Recipient.email("billing@carrier.example"), Recipient.receiver("noc-email")])
    assert deliver_due().failed == []
    smtp = app_alerts["smtp"]
    assert len(smtp.messages) == 2 and smtp.logins == ["alerts", "alerts"]
    for msg in smtp.messages:
        parts = list(msg.iter_attachments())
        assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
            (PDF.filename, PDF.content_type), (XLSX.filename, XLSX.content_type)]
        assert [p.get_content() for p in parts] == [PDF.data, XLSX.data]
        assert msg.get_body(("plain",)).get_content().strip() == "Please find the evidence attached."
        assert msg.get_body(("html",)).get_content().strip() == "<p>Evidence</p>"
        assert msg["Content-Language"] == "ko"  # still on the message, not moved into the body part


def test_slack_gets_the_file_names_only(app_alerts):
    _queue(to=[Recipient.receiver("oncall-slack")])
    assert deliver_due().failed == []
    [body] = app_alerts["slack"].bodies
    assert body["text"].endswith(f"\n📎 {PDF.filename}\n📎 {XLSX.filename}")
    assert len(body["text"]) < 500  # no file content


def test_stored_attachments_keep_order_size_and_sha256_and_stay_out_of_the_change_log(app_alerts):
    _queue()
    msg = OutboxMessage.objects.get()
    assert attachments_of(msg) == [PDF, XLSX]
    rows = list(msg.attachments.order_by("pk"))
    assert [(r.size, r.sha256) for r in rows] == [(len(a.data), hashlib.sha256(a.data).hexdigest())
                                                  for a in (PDF, XLSX)]
    logged = ObjectChange.objects.filter(object_repr=PDF.filename).get()
    assert "data" not in logged.postchange_data and logged.postchange_data["sha256"] == rows[0].sha256


def test_a_second_enqueue_of_the_key_stores_no_second_set_of_files(app_alerts):
    assert _queue() is True
    assert _queue() is False
    assert OutboxAttachment.objects.count() == 2


def test_a_retry_after_a_failed_delivery_sends_the_files_again(tmp_path, settings, smtp_factory, webhook, tls_cert):
    port = free_tcp_port()
    path = write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=port, ca_file=tls_cert[0], slack_url=webhook.url)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"alerts_path": path})
    _queue()
    now = timezone.now()
    assert len(deliver_due(now).failed) == 1  # no server yet
    server = smtp_factory("starttls", port=port)
    assert len(deliver_due(now + dt.timedelta(seconds=11)).delivered) == 1
    assert [p.get_content() for p in server.messages[0].iter_attachments()] == [PDF.data, XLSX.data]


@pytest.mark.parametrize(("attachments", "reason"), [
    ((Attachment("big.bin", "application/octet-stream", b"\0" * (outbox.MAX_ATTACHMENTS_BYTES - 9)), PDF),
     "MiB in all, at most 10 MiB"),
    ((PDF, Attachment(PDF.filename, "text/plain", b"x")), "the same file name twice"),
], ids=["over-10-MiB", "same-name-twice"])
def test_enqueue_refuses_files_over_the_limit_or_named_twice_and_queues_nothing(app_alerts, attachments, reason):
    with pytest.raises(ValueError, match=f"attachments: .*{reason}"):
        _queue(attachments=attachments)
    assert not OutboxMessage.objects.exists() and not OutboxAttachment.objects.exists()


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"filename": "../etc/passwd"}, "no folder"),
    ({"filename": "a\r\nBcc: x@y"}, "no folder or line break"),
    ({"filename": " "}, "give 1 to 200 characters"),
    ({"content_type": "pdf"}, "is not type/subtype"),
    ({"data": "text, not bytes"}, "data must be bytes"),
], ids=["folder", "header-injection", "blank-name", "bad-content-type", "str-data"])
def test_a_bad_attachment_is_refused_naming_the_reason(kwargs, reason):
    with pytest.raises(ValueError, match=f"^attachments: .*{reason}"):
        Attachment(**({"filename": "a.pdf", "content_type": "application/pdf", "data": b"x"} | kwargs))


def test_the_outbox_page_and_api_name_the_files_with_their_size_not_their_bytes(app_alerts, client, user_with_role):
    _queue()
    client.force_login(user_with_role("admin"))
    page = client.get("/notify/outbox/").content.decode()
    assert f"📎 {PDF.filename} (195.3\xa0KB)" in page and f"📎 {XLSX.filename}" in page
    [row] = client.get("/api/notify/outbox/").json()["results"]
    assert row["attachments"] == [
        {"filename": a.filename, "content_type": a.content_type, "size": len(a.data),
         "sha256": hashlib.sha256(a.data).hexdigest()} for a in (PDF, XLSX)]
