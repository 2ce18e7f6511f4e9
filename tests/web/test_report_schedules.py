"""Report schedules: which period is due when (pure), exactly-once delivery through the outbox (in this process,
then across restarts: each run a new ``linewatch_worker --once`` process on one SQLite database, the mail to the
test SMTP server), a failed rendering recorded and retried, the archive's files.

The report rendered is ``schedule-test`` (tests/web/report_worker_app): a real definition on the real engine,
template and WeasyPrint, whose provider fails on demand."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from notify_support import alerting_fixtures, write_alerts_yaml
from report_worker_app import reports as test_reports
from web_test_setup import web_env

from linewatch.choices import DeliveryStatus, ReportDeliveryState, ReportPeriodKind
from web.reports.period import parse_period
from web.reports.schedule import due_at, due_period, next_run, retry_at

UTC = dt.UTC
SEOUL = ZoneInfo("Asia/Seoul")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _at(text: str, tz: Any = UTC) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


# -- when a period is due (pure) -------------------------------------------------------------------------------------

DUE_CASES = [
    # (id, kind, now, tz, send_hour, expected due period or None)
    ("month-after-send-hour", ReportPeriodKind.MONTH, "2026-12-01T06:00", UTC, 6, "2026-11"),
    ("month-before-send-hour", ReportPeriodKind.MONTH, "2026-12-01T05:59", UTC, 6, None),
    ("month-mid-month-is-last-month", ReportPeriodKind.MONTH, "2026-12-17T12:00", UTC, 6, "2026-11"),
    ("month-january-is-december", ReportPeriodKind.MONTH, "2027-01-02T00:00", UTC, 0, "2026-12"),
    # 2026-11-30 22:00 UTC is 07:00 on 1 December in Seoul: November is over there, and due at 07:00.
    ("month-in-seoul-time", ReportPeriodKind.MONTH, "2026-11-30T22:00", SEOUL, 7, "2026-11"),
    ("month-in-seoul-before-hour", ReportPeriodKind.MONTH, "2026-11-30T21:59", SEOUL, 7, None),
    ("week-monday-after-send-hour", ReportPeriodKind.WEEK, "2026-11-23T08:00", UTC, 8, "2026-W47"),
    ("week-monday-before-send-hour", ReportPeriodKind.WEEK, "2026-11-23T07:00", UTC, 8, None),
    ("week-sunday-is-previous-week", ReportPeriodKind.WEEK, "2026-11-22T23:00", UTC, 0, "2026-W46"),
    ("week-across-the-year", ReportPeriodKind.WEEK, "2027-01-04T09:00", UTC, 6, "2026-W53"),
]


@pytest.mark.parametrize(("kind", "now", "tz", "hour", "expected"), [c[1:] for c in DUE_CASES],
                         ids=[c[0] for c in DUE_CASES])
def test_the_last_complete_period_is_due_from_its_send_hour(kind, now, tz, hour, expected):
    period = due_period(kind, _at(now), tz=tz, send_hour=hour)
    assert (period.key if period else None) == expected


NEXT_CASES = [
    ("before-the-send-hour-it-is-today", ReportPeriodKind.MONTH, "2026-12-01T03:00", 6, "2026-12-01T06:00"),
    ("after-it-the-next-period-end", ReportPeriodKind.MONTH, "2026-12-01T06:00", 6, "2027-01-01T06:00"),
    ("mid-month", ReportPeriodKind.MONTH, "2026-12-17T12:00", 6, "2027-01-01T06:00"),
    ("weekly-next-monday", ReportPeriodKind.WEEK, "2026-11-25T12:00", 6, "2026-11-30T06:00"),
]


@pytest.mark.parametrize(("kind", "now", "hour", "expected"), [c[1:] for c in NEXT_CASES],
                         ids=[c[0] for c in NEXT_CASES])
def test_the_next_run_is_the_first_due_moment_after_now(kind, now, hour, expected):
    assert next_run(kind, _at(now), tz=UTC, send_hour=hour) == _at(expected)


def test_a_period_is_due_on_the_day_after_it_ends_in_the_zone():
    assert due_at(parse_period("2026-11"), tz=SEOUL, send_hour=7) == _at("2026-12-01T07:00", SEOUL)
    with pytest.raises(ValueError, match="send_hour: 24"):
        due_at(parse_period("2026-11"), tz=UTC, send_hour=24)


@pytest.mark.parametrize(("attempts", "delay_s"), [(1, 600), (2, 1200), (3, 2400), (10, 6 * 3600)])
def test_a_failed_delivery_is_retried_later_each_time_at_most_every_six_hours(attempts, delay_s):
    now = _at("2026-12-01T06:00")
    assert retry_at(now, attempts=attempts) == now + dt.timedelta(seconds=delay_s)


# -- exactly once, in this process -------------------------------------------------------------------------------------


@pytest.fixture
def test_report(settings, tmp_path, monkeypatch):
    """The test report registered; the archive in a folder of the test; the provider failing while ``fail``
    exists."""
    from web.reports import archive

    test_reports.register()
    out = tmp_path / "reports"
    monkeypatch.setattr(archive, "root", lambda: out)
    fail = tmp_path / "fail"
    monkeypatch.setenv(test_reports.FAIL_ENV, str(fail))
    yield {"out": out, "fail": fail}
    test_reports.unregister()


@pytest.fixture
def schedule(db, test_report, make_inventory):
    from web.reports.models import ReportSchedule

    inventory = make_inventory(2)
    return ReportSchedule.objects.create(
        name="Engineering monthly", report=test_reports.NAME, period_kind=ReportPeriodKind.MONTH,
        language="ko", department=inventory["departments"][0],
        recipients=[{"email": "head@example.com"}, {"email": "cfo@example.com"}], send_hour=6)


DECEMBER_1 = _at("2026-12-01T06:30")


def _messages() -> list[Any]:
    from web.notify.models import OutboxMessage

    return list(OutboxMessage.objects.filter(key__startswith="report:"))


def test_a_due_period_is_rendered_kept_and_queued_once_with_its_pdf(schedule, test_report):
    from web.notify.outbox import attachments_of
    from web.reports import archive, delivery
    from web.reports.models import ReportDelivery

    report = delivery.run(now=DECEMBER_1)
    assert report.queued == ["Engineering monthly 2026-11"] and not report.failed
    row = ReportDelivery.objects.get()
    assert (row.schedule, row.period, row.state, row.language, row.department) == (
        schedule, "2026-11", ReportDeliveryState.RENDERED, "ko", "Engineering")
    assert row.title == "일정 시험 보고서" and row.attempts == 1 and row.rendered_at == DECEMBER_1
    (msg,) = _messages()
    assert msg.key == f"report:{schedule.pk}:2026-11" and row.message == msg
    assert msg.subject == "일정 시험 보고서, 2026년 11월 (Engineering)"
    assert [r["address"] for r in msg.recipients] == ["head@example.com", "cfo@example.com"]
    (pdf,) = attachments_of(msg)
    assert pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert pdf.filename == "schedule-test-2026-11-engineering-ko.pdf"
    # The archive keeps the same PDF and the HTML, private.
    kept = archive.path(row.pdf_file)
    assert kept.read_bytes() == pdf.data and row.pdf_size == len(pdf.data)
    html = archive.path(row.html_file).read_text(encoding="utf-8")
    assert "2026년 11월: Engineering" in html
    for path in (kept, archive.path(row.html_file)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((test_report["out"] / "sent").stat().st_mode) == 0o700
    # The next due moment: 1 January, 06:00.
    schedule.refresh_from_db()
    assert schedule.next_run == _at("2027-01-01T06:00")


def test_running_again_in_the_same_period_queues_nothing(schedule):
    from web.reports import delivery
    from web.reports.models import ReportDelivery, ReportSchedule

    delivery.run(now=DECEMBER_1)
    # Even when the schedule is looked at again (edited: its next run emptied), the period is not sent twice.
    ReportSchedule.objects.filter(pk=schedule.pk).update(next_run=None)
    again = delivery.run(now=DECEMBER_1 + dt.timedelta(hours=5))
    assert again.queued == [] and not again.failed
    assert ReportDelivery.objects.count() == 1 and len(_messages()) == 1


def test_the_next_period_is_delivered_when_it_is_due(schedule):
    from web.reports import delivery
    from web.reports.models import ReportDelivery

    delivery.run(now=DECEMBER_1)
    assert delivery.run(now=_at("2026-12-31T23:00")).queued == []  # not yet due: nothing looked at
    assert delivery.run(now=_at("2027-01-01T06:00")).queued == ["Engineering monthly 2026-12"]
    assert sorted(ReportDelivery.objects.values_list("period", flat=True)) == ["2026-11", "2026-12"]
    assert len(_messages()) == 2


def test_a_failed_render_is_recorded_and_retried_by_a_later_run(schedule, test_report):
    from web.reports import delivery
    from web.reports.models import ReportDelivery

    test_report["fail"].touch()
    first = delivery.run(now=DECEMBER_1)
    assert first.queued == [] and first.failed[0][0] == "Engineering monthly 2026-11"
    row = ReportDelivery.objects.get()
    assert row.state == ReportDeliveryState.FAILED and row.attempts == 1
    assert "the test's data source is down" in row.error and not row.pdf_file
    assert _messages() == []
    schedule.refresh_from_db()
    assert schedule.next_run == DECEMBER_1 + dt.timedelta(minutes=10)
    # Still failing at the retry: a second attempt, the wait doubled.
    delivery.run(now=DECEMBER_1 + dt.timedelta(minutes=10))
    row.refresh_from_db()
    assert row.attempts == 2 and row.state == ReportDeliveryState.FAILED
    # Before the next retry is due, nothing is tried.
    delivery.run(now=DECEMBER_1 + dt.timedelta(minutes=15))
    row.refresh_from_db()
    assert row.attempts == 2
    # The data source is back: the retry renders and queues it, once.
    test_report["fail"].unlink()
    third = delivery.run(now=DECEMBER_1 + dt.timedelta(minutes=31))
    assert third.queued == ["Engineering monthly 2026-11"]
    row.refresh_from_db()
    assert (row.state, row.attempts, row.error) == (ReportDeliveryState.RENDERED, 3, "")
    assert len(_messages()) == 1


def test_a_schedule_with_no_recipient_left_fails_saying_so(schedule):
    from django.contrib.auth.models import User

    from web.reports import delivery
    from web.reports.models import ReportDelivery, ReportSchedule

    user = User.objects.create_user("gone", email="gone@example.com")
    ReportSchedule.objects.filter(pk=schedule.pk).update(recipients=[{"user": user.pk}])
    user.delete()
    delivery.run(now=DECEMBER_1)
    row = ReportDelivery.objects.get()
    assert row.state == ReportDeliveryState.FAILED and "no recipient" in row.error and "deleted" in row.error
    assert _messages() == []


def test_the_delivery_is_sent_once_the_outbox_delivered_it(schedule):
    from web.notify.models import OutboxMessage
    from web.reports import delivery
    from web.reports.models import ReportDelivery

    delivery.run(now=DECEMBER_1)
    assert delivery.mark_sent() == 0  # still pending in the outbox
    delivered_at = DECEMBER_1 + dt.timedelta(seconds=7)
    OutboxMessage.objects.filter(key__startswith="report:").update(status=DeliveryStatus.DELIVERED,
                                                                   delivered_at=delivered_at)
    assert delivery.run(now=DECEMBER_1 + dt.timedelta(minutes=1)).sent == 1
    row = ReportDelivery.objects.get()
    assert (row.state, row.sent_at) == (ReportDeliveryState.SENT, delivered_at)


def test_a_disabled_schedule_sends_nothing(schedule):
    from web.reports import delivery

    schedule.enabled = False
    schedule.save()
    assert delivery.run(now=DECEMBER_1).queued == [] and _messages() == []


def test_deleting_a_schedule_keeps_its_sent_reports(schedule):
    from web.reports import delivery
    from web.reports.models import ReportDelivery

    delivery.run(now=DECEMBER_1)
    schedule.delete()
    row = ReportDelivery.objects.get()
    assert row.schedule is None and row.report == test_reports.NAME and row.pdf_file


@pytest.mark.parametrize(("recipients", "message"), [
    ([], "at least one recipient"),
    ("head@example.com", "a list of recipients"),
    ([{"email": "not-an-address"}], "recipient 1: not-an-address is not an email address"),
    ([{"phone": "123"}], "recipient 1: give one of user, receiver or email"),
    ([{"email": "a@example.com", "user": 1}], "recipient 1: give one of user, receiver or email"),
    ([{"email": "a@example.com"}, {"user": "x"}], "recipient 2: a user's id"),
    ([{"user": 999999}], "no user with id 999999"),
], ids=["none", "not-a-list", "bad-address", "unknown-kind", "two-kinds", "user-not-an-id", "unknown-user"])
def test_a_schedule_names_the_recipient_that_is_wrong(db, test_report, recipients, message):
    from django.core.exceptions import ValidationError

    from web.reports.models import ReportSchedule

    with pytest.raises(ValidationError) as info:
        ReportSchedule(name="x", report=test_reports.NAME, recipients=recipients).full_clean()
    assert message in " ".join(info.value.message_dict["recipients"])


def test_a_schedule_of_an_unknown_report_or_the_wrong_period_is_refused(db, test_report):
    from django.core.exceptions import ValidationError

    from web.reports.models import ReportSchedule

    with pytest.raises(ValidationError) as info:
        ReportSchedule(name="x", report="no-such-report", recipients=[{"email": "a@example.com"}]).full_clean()
    assert "no report named no-such-report" in info.value.message_dict["report"][0]
    with pytest.raises(ValidationError) as info:
        ReportSchedule(name="y", report=test_reports.WEEKLY, period_kind=ReportPeriodKind.MONTH,
                       recipients=[{"email": "a@example.com"}]).full_clean()
    assert "covers a week" in info.value.message_dict["period_kind"][0]


# -- exactly once across restarts: new worker processes ------------------------------------------------------------------

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook
_MANAGE = [sys.executable, "-m", "web.manage"]


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_MANAGE + list(args), env=env, cwd=ROOT, check=False, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def site(tmp_path: Path, smtp_factory: Any, webhook: Any, tls_cert: Any) -> dict[str, Any]:
    """linewatch.yaml on a migrated SQLite database under state_dir, mail through the test SMTP server, the test
    report app installed; one monthly schedule to an address."""
    smtp = smtp_factory("starttls")
    write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0], slack_url=webhook.url)
    config = {"state_dir": "var", "alerts_path": "alerts.yaml", "reports": {"timezone": "UTC"}}
    (tmp_path / "linewatch.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = web_env(LINEWATCH_CONFIG=str(tmp_path / "linewatch.yaml"), DJANGO_SETTINGS_MODULE="report_worker_app.settings",
                  PYTHONPATH=f"{HERE}:{ROOT}", **{test_reports.FAIL_ENV: str(tmp_path / "fail")})
    migrated = _manage(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    db = tmp_path / "var" / "web.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO reports_reportschedule (created, last_updated, name, report, period_kind, language,"
                     " recipients, send_hour, enabled) VALUES (datetime('now'), datetime('now'), 'monthly to cfo',"
                     " ?, 'month', 'en', ?, 0, 1)", (test_reports.NAME, '[{"email": "cfo@example.com"}]'))
    return {"env": env, "db": db, "smtp": smtp, "fail": tmp_path / "fail", "state": tmp_path / "var"}


def _worker(site: dict[str, Any]) -> str:
    """One worker process running every job once; the reports' and the outbox's jobs must not fail (others may:
    no InfluxDB here)."""
    run = _manage(site["env"], "linewatch_worker", "--once")
    output = run.stdout + run.stderr
    for job in ("web.reports.jobs:deliver_reports", "web.notify.jobs:deliver_outbox"):
        assert f"job {job} failed" not in output, output[-3000:]
    return output


def _rows(site: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(site["db"]) as db:
        return db.execute(sql).fetchall()


@pytest.mark.slow
def test_a_restarted_worker_sends_each_period_once_and_retries_a_failed_render(site):
    # The data source is down: the first worker records the failure; nothing is queued or mailed.
    site["fail"].touch()
    _worker(site)
    assert _rows(site, "SELECT state, attempts FROM reports_reportdelivery") == [("failed", 1)]
    assert _rows(site, "SELECT count(*) FROM notify_outboxmessage") == [(0,)]
    # Back again; the retry is due (the wait moved back, as if 10 minutes had passed): a new worker renders and
    # queues it; the next one mails it (the outbox's job runs before the reports') and turns the row sent.
    site["fail"].unlink()
    with sqlite3.connect(site["db"]) as db:
        db.execute("UPDATE reports_reportschedule SET next_run = NULL")
    _worker(site)
    _worker(site)
    period = _rows(site, "SELECT period FROM reports_reportdelivery")[0][0]
    assert _rows(site, "SELECT state, attempts FROM reports_reportdelivery") == [("sent", 2)]
    assert _rows(site, "SELECT key, status FROM notify_outboxmessage") == [(f"report:1:{period}", "delivered")]
    # A restart, and the schedule looked at again: still one message, one mail.
    with sqlite3.connect(site["db"]) as db:
        db.execute("UPDATE reports_reportschedule SET next_run = NULL")
    _worker(site)
    assert _rows(site, "SELECT count(*) FROM notify_outboxmessage") == [(1,)]
    assert _rows(site, "SELECT count(*) FROM reports_reportdelivery") == [(1,)]
    (mail,) = site["smtp"].messages
    assert mail["To"] == "cfo@example.com" and mail["Subject"].startswith("Schedule test, ")
    (part,) = [p for p in mail.walk() if p.get_content_type() == "application/pdf"]
    assert part.get_filename() == f"schedule-test-{period}-en.pdf"
    assert part.get_payload(decode=True).startswith(b"%PDF-")
    kept = site["state"] / "reports" / "sent" / "1" / period / f"schedule-test-{period}-en.pdf"
    assert kept.read_bytes() == part.get_payload(decode=True)
