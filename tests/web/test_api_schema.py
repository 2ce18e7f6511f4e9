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
from hypothesis import HealthCheck, given, settings
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


def _operations() -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()  # a schema the generator cannot read fails here, naming the operation
        if operation.path != "/api/schema/":
            operations.append(operation)
    return operations


@pytest.mark.slow
@pytest.mark.django_db
def test_api_answers_every_schema_request_without_a_server_error(admin_key: str) -> None:
    """Every operation, 10 generated requests each. One test rather than schemathesis' item per operation: those
    items share one node id under pytest 9, so pytest-xdist ran only the first of them."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    failures = []
    operations = _operations()
    assert len(operations) > 50, [op.label for op in operations]  # every model, the documents, the logs
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                         HealthCheck.filter_too_much])
        def answers_without_a_server_error(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            answers_without_a_server_error()
        except Exception as error:  # noqa: BLE001 - each failing operation is named, all of them at once
            failures.append(f"{operation.label}: {str(error)[:2000]}")
    assert not failures, "\n\n".join(failures)
    print(f"{len(operations)} operations checked")
