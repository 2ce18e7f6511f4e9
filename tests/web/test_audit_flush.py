"""``manage.py flush`` and the append-only change log (on SQLite, and on PostgreSQL in the second run): refused
with a clear error while the log holds rows (it used to fail with the trigger's raw database error, half-way),
done completely with ``--purge-audit-log`` or the test-database setting, the triggers protecting the log again
afterwards."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from web.accounts.logins.models import LoginEvent
from web.audit.context import change_context
from web.audit.models import ObjectChange
from web.inventory.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_flushed_content_types():
    """A flush inside a test's transaction recreates the content types under new ids, which the rollback then
    removes while ContentType's cache keeps them: later tests would log changes under a type id that is gone."""
    yield
    ContentType.objects.clear_cache()


def _raw_delete_refused() -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_objectchange")
    except DatabaseError:
        return True
    return False


@pytest.fixture
def history():
    with change_context(user_name="import"):
        site = Site.objects.create(name="Frankfurt")
    LoginEvent.objects.create(kind="login", user_name="kim", remote_addr="192.0.2.7")
    assert ObjectChange.objects.count() == 1
    return site


def test_flush_of_a_database_with_history_is_refused_naming_the_way_out_and_deletes_nothing(history):
    with pytest.raises(CommandError, match=r"append-only and holds 1 row.*flush --purge-audit-log"):
        call_command("flush", interactive=False, verbosity=0)
    assert Site.objects.filter(pk=history.pk).exists() and ObjectChange.objects.count() == 1
    assert LoginEvent.objects.count() == 1


def test_flush_with_purge_audit_log_empties_everything_and_the_triggers_protect_the_log_again(history):
    call_command("flush", "--purge-audit-log", interactive=False, verbosity=0)
    assert not Site.objects.exists() and not ObjectChange.objects.exists() and not LoginEvent.objects.exists()
    ObjectChange.objects.create(user_name="after", request_id=uuid.uuid4(), action="create",
                                changed_object_type=ContentType.objects.get_for_model(Site), changed_object_id=1,
                                object_repr="x")
    assert _raw_delete_refused()
    assert ObjectChange.objects.count() == 1


def test_test_runner_flush_works_with_the_test_database_setting(history):
    """TransactionTestCase and pytest-django's transactional_db call flush with these arguments and no option."""
    with override_settings(LINEWATCH_AUDIT_PURGE_ON_FLUSH=True):
        call_command("flush", verbosity=0, interactive=False, database="default", reset_sequences=False,
                     allow_cascade=False, inhibit_post_migrate=False)
    assert not ObjectChange.objects.exists() and not Site.objects.exists()
    with change_context(user_name="after"):
        Site.objects.create(name="Seoul")
    assert _raw_delete_refused() and ObjectChange.objects.count() == 1


def test_flush_of_an_empty_change_log_needs_no_option():
    """PostgreSQL's TRUNCATE trigger fires on an empty table too: an empty log is no reason to refuse."""
    Site.objects.bulk_create([Site(name="Seoul")])  # bulk_create writes no change-log row
    assert not ObjectChange.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not Site.objects.exists()
    Site.objects.create(name="Busan")
    assert _raw_delete_refused()


def test_interactive_flush_cancelled_changes_nothing(history, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    call_command("flush", "--purge-audit-log", verbosity=0)
    assert ObjectChange.objects.count() == 1 and Site.objects.exists()
    assert _raw_delete_refused()
