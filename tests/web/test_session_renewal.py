"""The idle expiry is renewed by requests without writing the session row on every request
(``SESSION_SAVE_EVERY_REQUEST`` made every page an UPDATE and a COMMIT): only when it would move by more than
``RENEW_S``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from web.accounts.middleware import RENEW_S

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_logged_in(client: Client, user_with_role) -> Client:
    client.force_login(user_with_role("viewer"))
    return client


def _session_writes(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries
            if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")]


@pytest.mark.parametrize(("age_s", "written"), [
    pytest.param(0, False, id="just-renewed"),
    pytest.param(RENEW_S - 5, False, id="within-granularity"),
    pytest.param(RENEW_S + 5, True, id="past-granularity"),
    pytest.param(25 * 60, True, id="nearly-idle"),
])
def test_page_request_writes_the_session_only_when_its_expiry_is_due(client_logged_in: Client, age_s, written):
    """A request writes the session row only if the stored expiry is more than RENEW_S behind a full idle period."""
    full = timezone.now() + dt.timedelta(seconds=client_logged_in.session.get_expiry_age())
    Session.objects.update(expire_date=full - dt.timedelta(seconds=age_s))  # as if age_s had passed
    writes = _session_writes(client_logged_in, "/inventory/lines/")
    assert bool(writes) is written, writes
    if written:
        assert Session.objects.get().expire_date > full - dt.timedelta(seconds=5)


def test_renewed_session_keeps_its_data_and_key(client_logged_in: Client):
    key = client_logged_in.session.session_key
    Session.objects.update(expire_date=timezone.now() + dt.timedelta(minutes=2))
    assert client_logged_in.get("/inventory/lines/").status_code == 200
    assert Session.objects.get().session_key == key
    assert client_logged_in.get("/inventory/lines/").status_code == 200  # still logged in: data intact
