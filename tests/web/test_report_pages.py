"""The reports' pages and API: who sees what (the same in both), the preview (HTML framed by this site only,
PDF as a download), the schedule form, the sent reports and their files, the capacity outlook from the real
influxd (sorted by days left, linked to the lines, InfluxDB down said on the page).

The report rendered is ``schedule-test`` (tests/web/report_worker_app): the real engine, template and WeasyPrint."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from report_worker_app import reports as test_reports

from linewatch.choices import ReportDeliveryState, Role, TokenScope

pytestmark = pytest.mark.django_db
ROLES = [r.value for r in Role]
DECEMBER_1 = dt.datetime(2026, 12, 1, 6, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def test_report(tmp_path, monkeypatch):
    from web.reports import archive

    test_reports.register()
    out = tmp_path / "reports"
    monkeypatch.setattr(archive, "root", lambda: out)
    yield out
    test_reports.unregister()


@pytest.fixture
def inventory(make_inventory):
    return make_inventory(4)


@pytest.fixture
def schedule(inventory):
    from web.reports.models import ReportSchedule

    return ReportSchedule.objects.create(name="Sales monthly", report=test_reports.NAME, language="en",
                                         department=inventory["departments"][1],
                                         recipients=[{"email": "sales-head@example.com"}])


@pytest.fixture
def delivered(schedule):
    from web.reports import delivery

    delivery.run(now=DECEMBER_1)
    return schedule.deliveries.get()


# -- who sees what: pages and API alike ------------------------------------------------------------------------------

# (url, expected status per role) — 403 for a role without the model permission, as the API.
PAGES = {
    "/reports/": {"viewer": 403, "noc": 200, "engineer": 200, "finance": 200, "admin": 200},
    "/reports/sent/": {"viewer": 403, "noc": 200, "engineer": 200, "finance": 200, "admin": 200},
    "/reports/schedules/": {"viewer": 403, "noc": 200, "engineer": 200, "finance": 200, "admin": 200},
    "/reports/schedules/add/": {"viewer": 403, "noc": 403, "engineer": 200, "finance": 200, "admin": 200},
    "/reports/outlook/": {"viewer": 200, "noc": 200, "engineer": 200, "finance": 200, "admin": 200},
}
API = {
    "/api/reports/schedules/": {"viewer": 403, "noc": 200, "engineer": 200, "finance": 200, "admin": 200},
    "/api/reports/deliveries/": {"viewer": 403, "noc": 200, "engineer": 200, "finance": 200, "admin": 200},
}


@pytest.fixture
def outlook_offline(settings):
    """InfluxDB nowhere (a closed port): the outlook page must still answer."""
    influx = settings.LINEWATCH.influx.model_copy(update={"url": "http://127.0.0.1:9", "timeout_s": 1.0})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": influx})


@pytest.mark.parametrize("url", list(PAGES))
def test_each_role_sees_the_reports_pages_its_permissions_allow(client, user_with_role, url, outlook_offline):
    answers = {}
    for role in ROLES:
        client.force_login(user_with_role(role))
        answers[role] = client.get(url).status_code
    assert answers == PAGES[url]


@pytest.mark.parametrize("url", list(API))
def test_the_api_allows_the_same_roles_as_the_pages(client, user_with_role, url):
    from web.accounts.tokens import Token

    answers = {}
    for role in ROLES:
        key = Token.create(user=user_with_role(role), name="t", scope=TokenScope.READ)[1]
        answers[role] = client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}").status_code
    assert answers == API[url]
    assert client.get(url).status_code == 401


def test_the_navigation_shows_reports_to_their_readers_and_the_outlook_to_everyone(client, user_with_role):
    client.force_login(user_with_role("viewer"))
    page = client.get("/inventory/lines/").content.decode()
    assert 'href="/reports/outlook/"' in page and 'href="/reports/"' not in page
    client.force_login(user_with_role("finance"))
    page = client.get("/inventory/lines/").content.decode()
    assert 'href="/reports/outlook/"' in page and 'href="/reports/"' in page


# -- the preview ---------------------------------------------------------------------------------------------------


def test_the_report_list_shows_every_report_and_the_preview_of_the_one_asked_for(client, user_with_role, inventory):
    client.force_login(user_with_role("engineer"))
    page = client.get("/reports/").content.decode()
    assert "<code>schedule-test</code>" in page and "Schedule test" in page and "<iframe" not in page
    page = client.get("/reports/", {"report": test_reports.NAME, "period": "2026-10", "language": "ko",
                                    "department": "Sales"}).content.decode()
    (src,) = re.findall(r'<iframe src="([^"]+)"', page)
    assert "/reports/render/?" in src and "format=html" in src and "period=2026-10" in src
    assert 'sandbox="allow-same-origin"' in page
    (pdf,) = re.findall(r'href="(/reports/render/\?[^"]+format=pdf[^"]*)"', page)
    framed = client.get(src.replace("&amp;", "&"))
    assert framed.status_code == 200 and framed["X-Frame-Options"] == "SAMEORIGIN"
    policy = framed["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "sandbox allow-same-origin" in policy
    html = framed.content.decode()
    assert "2026년 10월: Sales" in html and "일정 시험 보고서" in html
    assert 'rel="stylesheet"' in html and "<style>" not in html  # the app's policy refuses inline styles
    download = client.get(pdf.replace("&amp;", "&"))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "schedule-test-2026-10-sales-ko.pdf" in download["Content-Disposition"]
    assert download.content.startswith(b"%PDF-")


def test_an_empty_period_previews_the_last_complete_one(client, user_with_role):
    from web.reports.period import last_complete

    client.force_login(user_with_role("finance"))
    html = client.get("/reports/render/", {"report": test_reports.NAME, "language": "en"}).content.decode()
    last = last_complete(test_reports.engine.get(test_reports.NAME).period_kind, dt.datetime.now(dt.UTC), "UTC")
    assert f"{last.label('en')}: every department" in html


@pytest.mark.parametrize(("query", "message"), [
    ({"report": test_reports.NAME, "period": "2026-W47", "language": "en"}, "is a week; this report covers a month"),
    ({"report": test_reports.NAME, "period": "2026-13", "language": "en"}, "months are 1..12"),
    ({"report": "no-such-report", "language": "en"}, "report: Select a valid choice"),
    ({"report": test_reports.NAME, "language": "fr"}, "language: Select a valid choice"),
], ids=["week-for-a-month", "no-such-month", "unknown-report", "unknown-language"])
def test_a_bad_preview_request_is_a_400_naming_the_field(client, user_with_role, query, message):
    client.force_login(user_with_role("finance"))
    answer = client.get("/reports/render/", query)
    assert answer.status_code == 400 and message in answer.content.decode()


def test_a_failing_report_says_why_instead_of_a_server_error(client, user_with_role, tmp_path, monkeypatch):
    fail = tmp_path / "fail"
    fail.touch()
    monkeypatch.setenv(test_reports.FAIL_ENV, str(fail))
    client.force_login(user_with_role("finance"))
    with pytest.raises(RuntimeError, match="data source is down"):  # a bug in a provider is a bug: a 500, logged
        client.get("/reports/render/", {"report": test_reports.NAME, "language": "en"})


# -- schedules --------------------------------------------------------------------------------------------------


def test_a_schedule_is_added_with_its_recipients_and_follows_its_reports_period(client, user_with_role, inventory):
    from web.reports.models import ReportSchedule

    reader = user_with_role("finance")
    reader.email = "reader@example.com"
    reader.save()
    client.force_login(user_with_role("finance"))
    answer = client.post("/reports/schedules/add/", {
        "name": "Weekly for finance", "report": test_reports.WEEKLY, "language": "ko", "department": "",
        "users": [reader.pk], "addresses": "cfo@example.com\n\nauditor@example.com\n", "send_hour": "7",
        "enabled": "on"})
    assert answer.status_code == 302
    schedule = ReportSchedule.objects.get(name="Weekly for finance")
    assert schedule.period_kind == "week" and schedule.send_hour == 7 and schedule.next_run is None
    assert schedule.recipients == [{"user": reader.pk}, {"email": "cfo@example.com"},
                                   {"email": "auditor@example.com"}]
    page = client.get(schedule.get_absolute_url()).content.decode()
    assert "reader@example.com" in page and "auditor@example.com" in page
    # Edited: the form shows what is there, and saving looks at the schedule again at the next run.
    form = client.get(f"/reports/schedules/{schedule.pk}/edit/").content.decode()
    assert "cfo@example.com\nauditor@example.com" in form


@pytest.mark.parametrize(("addresses", "message"), [
    ("", "at least one recipient"),
    ("cfo@example.com\nnot-an-address", "recipient 2: not-an-address is not an email address"),
], ids=["no-recipient", "bad-address"])
def test_the_schedule_form_shows_the_recipients_problem_on_the_addresses(client, user_with_role, addresses, message):
    from web.reports.models import ReportSchedule

    client.force_login(user_with_role("engineer"))
    answer = client.post("/reports/schedules/add/", {"name": "x", "report": test_reports.NAME, "language": "en",
                                                     "addresses": addresses, "send_hour": "6"})
    assert answer.status_code == 200 and message in answer.context["form"].errors["addresses"][0]
    assert not ReportSchedule.objects.exists()


def test_the_api_adds_a_schedule_with_the_pages_rules(client, user_with_role):
    from web.accounts.tokens import Token

    def post(role: str, body: dict[str, Any]) -> Any:
        key = Token.create(user=user_with_role(role), name="t", scope=TokenScope.WRITE)[1]
        return client.post("/api/reports/schedules/", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")

    body = {"name": "api weekly", "report": test_reports.WEEKLY, "language": "en",
            "recipients": [{"email": "noc@example.com"}]}
    assert post("noc", body).status_code == 403
    created = post("engineer", body)
    assert created.status_code == 201, created.content
    assert created.json()["period_kind"] == "week" and created.json()["next_run"] is None
    bad = post("engineer", body | {"name": "other", "recipients": [{"email": "nope"}]})
    assert bad.status_code == 400 and "nope is not an email address" in json.dumps(bad.json())
    unknown = post("engineer", body | {"name": "third", "report": "nope"})
    assert unknown.status_code == 400 and "no report named nope" in json.dumps(unknown.json())


def test_deleting_a_schedule_keeps_the_sent_reports(client, user_with_role, delivered):
    client.force_login(user_with_role("finance"))
    assert client.post(f"/reports/schedules/{delivered.schedule_id}/delete/").status_code == 302
    delivered.refresh_from_db()
    assert delivered.schedule is None
    assert "Schedule test" in client.get("/reports/sent/").content.decode()


# -- sent reports ----------------------------------------------------------------------------------------------


def test_the_sent_reports_list_their_files_for_download(client, user_with_role, delivered):
    assert delivered.state == ReportDeliveryState.RENDERED
    client.force_login(user_with_role("noc"))
    page = client.get("/reports/sent/").content.decode()
    assert "2026-11" in page and "Queued" in page and f"/reports/sent/{delivered.pk}/pdf/" in page
    pdf = client.get(f"/reports/sent/{delivered.pk}/pdf/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    assert "schedule-test-2026-11-en.pdf" in pdf["Content-Disposition"]
    html = b"".join(client.get(f"/reports/sent/{delivered.pk}/html/").streaming_content).decode()
    assert "November 2026: Sales" in html
    assert client.get(f"/reports/sent/{delivered.pk}/docx/").status_code == 404
    client.force_login(user_with_role("viewer"))
    assert client.get(f"/reports/sent/{delivered.pk}/pdf/").status_code == 403


def test_the_api_lists_the_sent_reports_and_serves_their_files(client, user_with_role, delivered, test_report):
    from web.accounts.tokens import Token

    key = Token.create(user=user_with_role("engineer"), name="t", scope=TokenScope.READ)[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    (row,) = client.get("/api/reports/deliveries/", {"period": "2026-11"}, **auth).json()["results"]
    assert (row["report"], row["state"], row["department"]) == (test_reports.NAME, "rendered", "Sales")
    pdf = client.get(row["pdf_url"], **auth)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    # The file gone from the disk: a 404 saying so, not a server error.
    (test_report / delivered.pdf_file).unlink()
    assert client.get(row["pdf_url"], **auth).status_code == 404


# -- the capacity outlook ------------------------------------------------------------------------------------------


@pytest.fixture
def outlook_points(influx_db, settings, inventory):
    from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points

    url, dbname = influx_db
    influx = InfluxSettings(url=url, database=dbname)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": influx})
    run_ns = int(dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC).timestamp()) * 10**9
    day_s = 86400
    base = int(dt.datetime(2026, 12, 2, tzinfo=dt.UTC).timestamp())
    points = [
        # LINE-002 crosses 80 % in 12 days (interval 9–16), 95 % in 40; a burstable line over its commitment.
        Point("line_outlook", {"line": "LINE-002"}, {
            "busy_hour_pct": 71.5, "p95_pct": 64.0, "growth_pct_per_month": 6.2, "days_to_80": 12.0,
            "date_80_s": base + 12 * day_s, "date_80_earliest_s": base + 9 * day_s,
            "date_80_latest_s": base + 16 * day_s, "days_to_95": 40.0, "date_95_s": base + 40 * day_s,
            "billing_model": "burstable_95th", "currency": "EUR", "projected_p95_bps": 25_000_000.0,
            "projected_amount": 1830.0, "contracted_amount": 1500.0, "month_to_date_amount": 120.0}, run_ns),
        # LINE-000 crosses in 75 days; LINE-001 not within the horizon (no days field).
        Point("line_outlook", {"line": "LINE-000"}, {"busy_hour_pct": 40.0, "growth_pct_per_month": 2.0,
                                                     "days_to_80": 75.0, "date_80_s": base + 75 * day_s}, run_ns),
        Point("line_outlook", {"line": "LINE-001"}, {"busy_hour_pct": 10.0, "growth_pct_per_month": 0.1}, run_ns),
        # A line no longer in the inventory: not shown.
        Point("line_outlook", {"line": "GONE-9"}, {"busy_hour_pct": 99.0, "days_to_80": 1.0}, run_ns),
    ]
    with InfluxClient(influx) as client:
        client.write(encode_points(points))
    return inventory


@pytest.mark.slow
def test_the_outlook_lists_lines_by_days_left_with_interval_and_projected_bill(client, user_with_role,
                                                                              outlook_points):
    client.force_login(user_with_role("viewer"))
    answer = client.get("/reports/outlook/")
    rows = answer.context["rows"]
    assert [r.line for r in rows] == ["LINE-002", "LINE-000", "LINE-001"]
    soon = rows[0]
    assert (soon.days_to_80, str(soon.date_80), str(soon.date_80_earliest), str(soon.date_80_latest)) == (
        12.0, "2026-12-14", "2026-12-11", "2026-12-18")
    assert soon.soon and soon.overage and soon.projected_unit == "bps" and soon.department == "Sales"
    page = answer.content.decode()
    line = outlook_points["lines"][2]
    assert f'href="/inventory/lines/{line.pk}/"' in page
    assert "2026-12-14 (2026-12-11 – 2026-12-18)" in page and "25 Mbit/s" in page
    assert "1830.00 EUR" in page and "contracted 1500.00 EUR" in page
    assert "not within the forecast" in page and "GONE-9" not in page
    # One department's lines.
    sales = client.get("/reports/outlook/", {"department": "Sales"}).context["rows"]
    assert [r.line for r in sales] == ["LINE-002"]


def test_the_outlook_page_says_when_influxdb_does_not_answer(client, user_with_role, outlook_offline, inventory):
    client.force_login(user_with_role("viewer"))
    answer = client.get("/reports/outlook/")
    assert answer.status_code == 200 and answer.context["rows"] == []
    assert "InfluxDB did not answer" in answer.content.decode()


def test_the_outlook_in_korean(client, user_with_role, outlook_offline):
    client.force_login(user_with_role("viewer"))
    page = client.get("/reports/outlook/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "용량 전망" in page


@pytest.mark.slow
def test_the_line_page_shows_its_outlook(client, user_with_role, outlook_points):
    client.force_login(user_with_role("viewer"))
    line = outlook_points["lines"][2]
    page = client.get(f"/inventory/lines/{line.pk}/").content.decode()
    assert 'id="outlook"' in page
    assert '<strong class="error">2026-12-14</strong> (2026-12-11 – 2026-12-18)' in page
    assert "1830.00 EUR" in page
    # A line the trends job has no outlook for: no such section.
    other = outlook_points["lines"][3]
    assert 'id="outlook"' not in client.get(f"/inventory/lines/{other.pk}/").content.decode()


def test_the_line_page_without_influxdb_has_no_outlook_section(client, user_with_role, outlook_offline, inventory):
    client.force_login(user_with_role("viewer"))
    answer = client.get(f"/inventory/lines/{inventory['lines'][0].pk}/")
    assert answer.status_code == 200 and 'id="outlook"' not in answer.content.decode()


@pytest.mark.slow
def test_the_api_gives_the_outlook_rows_of_the_page(client, user_with_role, outlook_points):
    from web.accounts.tokens import Token

    key = Token.create(user=user_with_role("viewer"), name="t", scope=TokenScope.READ)[1]
    answer = client.get("/api/reports/outlook/", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert answer["error"] == ""
    rows = answer["results"]
    assert [r["line"] for r in rows] == ["LINE-002", "LINE-000", "LINE-001"]
    assert (rows[0]["date_80"], rows[0]["date_80_earliest"], rows[0]["projected_amount"]) == (
        "2026-12-14", "2026-12-11", 1830.0)
    assert rows[2]["days_to_80"] is None
    sales = client.get("/api/reports/outlook/", {"department": "Sales"}, HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert [r["line"] for r in sales["results"]] == ["LINE-002"]


def test_the_outlook_api_says_when_influxdb_does_not_answer(client, user_with_role, outlook_offline):
    from web.accounts.tokens import Token

    key = Token.create(user=user_with_role("viewer"), name="t", scope=TokenScope.READ)[1]
    answer = client.get("/api/reports/outlook/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.status_code == 200 and answer.json()["results"] == []
    assert answer.json()["error"].startswith("InfluxDB did not answer (")
    assert client.get("/api/reports/outlook/").status_code == 401
