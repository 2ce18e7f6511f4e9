"""Property test of the API against its own OpenAPI schema (schemathesis): no request the schema allows, however
odd its values, makes the API fail with a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from linewatch.choices import Role, TokenScope
from web.accounts.tokens import Token

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Any:
    """The WSGI application closes the database connection after each request (``close_old_connections``): inside
    the test's transaction that closed the PostgreSQL connection ("the connection is closed"; SQLite in memory
    ignores it). Django's own test client disconnects it for the same reason; so do we, while the test runs."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def admin_key(user_with_role: Any, make_inventory: Any) -> str:
    make_inventory(2)
    return Token.create(user=user_with_role(Role.ADMIN.value), name="fuzz", scope=TokenScope.WRITE)[1]


@pytest.mark.slow
@pytest.mark.django_db
@schema.exclude(path="/api/schema/").parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_answers_every_schema_request_without_a_server_error(case: Any, admin_key: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_key}"}, checks=[not_a_server_error])
