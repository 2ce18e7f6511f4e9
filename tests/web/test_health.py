"""``/-/health``: open without a login, checks the database, names nothing but ok/unavailable."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_answers_ok_without_a_login_and_without_a_session():
    response = Client().get("/-/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "max-age=0" in response["Cache-Control"] and "Set-Cookie" not in response.headers
    assert not any(word in response.content.decode().lower() for word in ("version", "django", "sqlite", "postgres"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_health_is_read_only(method):
    assert getattr(Client(), method)("/-/health").status_code == 405


class _DownConnection:
    """A database connection whose every query fails the way a stopped server does (the reason names a secret)."""

    def cursor(self):
        raise OperationalError('connection to server at "postgres" failed: password authentication failed '
                               'for user "linewatch" password=s3cret-db-pw')


def test_health_is_503_naming_nothing_when_the_database_does_not_answer(monkeypatch, caplog):
    monkeypatch.setattr("web.accounts.health.connection", _DownConnection())
    with caplog.at_level(logging.WARNING, logger="web.health"):
        response = Client().get("/-/health")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}
    assert b"s3cret" not in response.content and b"postgres" not in response.content
    assert "the database does not answer" in caplog.text
