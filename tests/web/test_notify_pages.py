"""The outbox page (admin: filter by status, retry an expired message) and the template pages (engineers and the
NOC for a carrier's template only; unknown variables refused with their name; preview with the sample values)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import timezone

from linewatch.choices import DeliveryStatus, MessageKind
from web.notify.models import MessageTemplate, OutboxMessage
from web.notify.outbox import Recipient, enqueue

pytestmark = pytest.mark.django_db
KIND = MessageKind.TEST_MESSAGE.value


def _message(key: str, *, about=None, status: str = DeliveryStatus.PENDING) -> OutboxMessage:
    enqueue(key, to=[Recipient.email("noc@carrier.example")], subject=f"Subject {key}", text="t", about=about)
    OutboxMessage.objects.filter(key=key).update(status=status, last_error="receiver x: HTTP 500")
    return OutboxMessage.objects.get(key=key)


def test_the_outbox_lists_messages_filtered_by_status_and_retries_an_expired_one(client, user_with_role):
    client.force_login(user_with_role("admin"))
    expired = _message("k:expired", status=DeliveryStatus.EXPIRED)
    _message("k:pending")
    page = client.get("/notify/outbox/?status=expired").content.decode()
    assert "k:expired" in page and "k:pending" not in page and "HTTP 500" in page
    assert client.post(f"/notify/outbox/{expired.pk}/retry/").status_code == 302
    expired.refresh_from_db()
    assert expired.status == DeliveryStatus.PENDING


def test_only_an_expired_message_can_be_retried(client, user_with_role):
    client.force_login(user_with_role("admin"))
    assert client.post(f"/notify/outbox/{_message('k:p').pk}/retry/").status_code == 404


def _form(carrier=None, body="Hello {{ sender }}", **extra):
    return {"kind": KIND, "carrier": carrier.pk if carrier else "", "language": "en", "subject": "Test {{ sender }}",
            "body": body, **extra}


def test_an_engineer_saves_a_carriers_template_but_not_the_default_one(client, user_with_role, make_inventory):
    carrier = make_inventory(1)["carriers"][0]
    client.force_login(user_with_role("engineer"))
    refused = client.post("/notify/templates/add/", _form())
    assert refused.status_code == 200 and "Only administrators" in refused.content.decode()
    assert client.post("/notify/templates/add/", _form(carrier)).status_code == 302
    default = MessageTemplate.objects.create(kind=KIND, language="ko", subject="s", body="b")
    assert client.get(f"/notify/templates/{default.pk}/edit/").status_code == 404


def test_saving_an_unknown_variable_is_refused_with_its_name(client, user_with_role):
    client.force_login(user_with_role("admin"))
    page = client.post("/notify/templates/add/", _form(body="Dear {{ recipient_name }}")).content.decode()
    assert "Unknown variable recipient_name" in page and not MessageTemplate.objects.exists()


def test_the_preview_renders_the_sample_values_without_saving(client, user_with_role):
    client.force_login(user_with_role("admin"))
    page = client.post("/notify/templates/add/", _form(preview="1")).content.decode()
    assert "Hello admin" in page and not MessageTemplate.objects.exists()


def test_the_add_page_starts_from_the_built_in_text(client, user_with_role):
    client.force_login(user_with_role("admin"))
    assert "linewatch 테스트 메시지" in client.get(f"/notify/templates/add/?kind={KIND}&language=ko").content.decode()


def test_the_messages_include_lists_the_messages_about_an_object(user_with_role):
    user = user_with_role("viewer")
    _message("about:me", about=user)
    _message("about:other")
    html = Template('{% include "notify/_messages.html" with about=obj %}').render(Context({"obj": user}))
    assert "Subject about:me" in html and "about:other" not in html
    assert timezone.now().strftime("%Y-%m-%d") in html


def test_the_api_lists_the_outbox_by_status_for_admins_only(client, user_with_role):
    _message("api:expired", status=DeliveryStatus.EXPIRED)
    _message("api:pending")
    client.force_login(user_with_role("admin"))
    rows = client.get("/api/notify/outbox/?status=expired").json()["results"]
    assert [r["key"] for r in rows] == ["api:expired"] and rows[0]["last_error"] == "receiver x: HTTP 500"
    client.force_login(user_with_role("engineer"))
    assert client.get("/api/notify/outbox/").status_code == 403
    assert client.get("/api/notify/templates/").status_code == 200
