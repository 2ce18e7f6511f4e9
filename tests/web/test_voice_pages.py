"""The voice pages against a real call store (linewatch.voice.store) and the real influxd (session fixture): the
trunks' figures, a day's calls with filters, paging, exports and departments, the cost per department, the rate
plans, a voice line's section on the line page, and pages that still render without InfluxDB or a call store."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from openpyxl import load_workbook
from voice_support import NOV_16, calls, voice_setup

from linewatch.choices import LineType
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.voice.store import CallStore
from web.inventory.models import Line
from web.voice import trunks
from web.voice.models import Extension

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
DAY = dt.date(2026, 11, 16)
T = NOV_16 + 9 * 3600  # 10:00 in Berlin


@pytest.fixture
def voice_lines(make_inventory):
    inv = make_inventory(2)
    fra, par = inv["lines"]
    for line, name, channels in ((fra, "FRA-VOICE-1", 30), (par, "PAR-VOICE-1", 10)):
        line.name, line.type, line.channels, line.status = name, LineType.VOICE_TRUNK, channels, "active"
        line.save()
    Extension.objects.create(number="31*", department=inv["departments"][1])  # Sales
    Extension.objects.create(number="315*", department=inv["departments"][0])  # Engineering
    return inv | {"fra": fra, "par": par}


@pytest.fixture
def store(tmp_path, settings, voice_lines):
    settings.TIME_ZONE = "Europe/Berlin"
    path = voice_setup(tmp_path, settings)
    with CallStore(path) as s:
        s.add(calls(
            {"call_key": "a", "start_s": T, "extension": "3101", "callee": "069123456", "cost": 0.10},
            {"call_key": "b", "start_s": T + 60, "extension": "3150", "callee": "0882123456",
             "callee_e164": "882123456", "dest_class": "international", "high_risk": True, "cost": 4.90},
            {"call_key": "c", "start_s": T + 120, "extension": "3102", "outcome": "blocked", "sip_code": 503, "callee": "069999",
             "billsec_s": 0.0, "billed_s": 0.0, "cost": 0.0, "direction": "outbound"},
            {"call_key": "d", "start_s": T + 180, "line": "PAR-VOICE-1", "extension": "4101", "caller": "0140000000",
             "callee": "4101", "direction": "inbound", "cost": 0.0},
            {"call_key": "e", "start_s": T - 86_400, "extension": "3101", "cost": 0.30},  # the day before
            {"call_key": "f", "start_s": T - 30 * 86_400, "extension": "3101", "cost": 9.0},  # October
        ))
    return path


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_calls_page_lists_the_days_calls_newest_first_with_their_department(client, user_with_role, store):
    client.force_login(user_with_role("noc"))
    html = _text(client.get(f"/voice/calls/?day={DAY.isoformat()}"))
    assert html.count('<tr class="call') == 4
    assert html.index("4101") < html.index("0882123456") < html.index("069123456")  # newest first
    assert '<td class="department">Engineering</td>' in html and '<td class="department">Sales</td>' in html


FILTERS = [("line", "line=PAR-VOICE-1", {"d"}), ("direction", "direction=inbound", {"d"}),
           ("class", "dest_class=international", {"b"}), ("outcome", "outcome=blocked", {"c"}),
           ("number", "number=882", {"b"}), ("number-plus", "number=%2B882", {"b"}),
           ("combined", "line=FRA-VOICE-1&outcome=answered", {"a", "b"})]


@pytest.mark.parametrize(("query", "keys"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS])
def test_the_calls_api_filters_by_line_direction_class_outcome_and_number(client, user_with_role, store, query,
                                                                          keys):
    client.force_login(user_with_role("finance"))
    response = client.get(f"/api/voice/calls/?day={DAY.isoformat()}&{query}")
    assert response.status_code == 200, response.content
    starts = {r["start_s"] for r in response.json()["results"]}
    expected = {"a": T, "b": T + 60, "c": T + 120, "d": T + 180}
    assert starts == {expected[k] for k in keys}


def test_a_bad_filter_is_a_400_naming_it(client, user_with_role, store):
    client.force_login(user_with_role("finance"))
    response = client.get("/api/voice/calls/?day=2026-13-01&outcome=lost")
    assert response.status_code == 400
    assert set(response.json()) == {"day", "outcome"}


def test_the_day_is_the_users_local_day(client, user_with_role, store):
    """23:30 UTC on the 15th is 00:30 on the 16th in Berlin: a call of the 16th."""
    with CallStore(store) as s:
        s.add(calls({"call_key": "late", "start_s": NOV_16 - 1800, "extension": "3101"}))
    client.force_login(user_with_role("finance"))
    starts = {r["start_s"] for r in client.get(f"/api/voice/calls/?day={DAY.isoformat()}").json()["results"]}
    assert NOV_16 - 1800 in starts
    before = {r["start_s"] for r in client.get("/api/voice/calls/?day=2026-11-15").json()["results"]}
    assert NOV_16 - 1800 not in before


def test_the_calls_export_has_every_filtered_call_in_both_formats(client, user_with_role, store):
    client.force_login(user_with_role("engineer"))
    csv_text = client.get(f"/voice/calls/export.csv?day={DAY.isoformat()}&line=FRA-VOICE-1").content.decode(
        "utf-8-sig")
    rows = csv_text.strip().splitlines()
    assert len(rows) == 4 and rows[0].startswith("Start,Line,Direction")
    assert "2026-11-16T10:01:00+01:00" in csv_text  # the user's time zone
    book = load_workbook(io.BytesIO(client.get(f"/voice/calls/export.xlsx?day={DAY.isoformat()}").content))
    sheet = book.active
    assert sheet.max_row == 5
    assert sheet.cell(2, 1).value == dt.datetime(2026, 11, 16, 10, 3)


def test_the_calls_page_pages_by_50(client, user_with_role, store):
    with CallStore(store) as s:
        s.add(calls(*({"call_key": f"p{i}", "start_s": T + 3600 + i, "extension": "3101"} for i in range(60))))
    client.force_login(user_with_role("noc"))
    first = _text(client.get(f"/voice/calls/?day={DAY.isoformat()}"))
    second = _text(client.get(f"/voice/calls/?day={DAY.isoformat()}&page=2"))
    assert first.count('<tr class="call') == 50 and second.count('<tr class="call') == 14


def test_the_cost_per_department_of_a_month(client, user_with_role, store):
    client.force_login(user_with_role("viewer"))
    html = _text(client.get("/voice/departments/?period=2026-11"))
    rows = html.split('<tr class="department">')[1:]
    assert len(rows) == 3  # Engineering, Sales, and the Paris call no entry covers
    assert rows[0].startswith("<td>Engineering</td><td>1</td><td>1</td>") and "<td>4.90</td>" in rows[0]
    assert rows[1].startswith("<td>Sales</td><td>3</td><td>2</td>")
    assert _text(client.get("/voice/departments/?period=2026-10")).count('<tr class="department">') == 1
    assert client.get("/voice/departments/?period=2026-1").status_code == 404


def test_without_a_call_store_the_pages_say_nothing_was_collected_and_the_api_lists_none(
        client, user_with_role, tmp_path, settings, voice_lines):
    """No store yet is no calls, not a server error (the API answered 503, which the schema test refused)."""
    voice_setup(tmp_path, settings)
    client.force_login(user_with_role("admin"))
    assert 'id="no-calls"' in _text(client.get("/voice/calls/"))
    assert 'id="no-calls"' in _text(client.get("/voice/departments/"))
    response = client.get("/api/voice/calls/")
    assert response.status_code == 200 and response.json()["count"] == 0


def test_an_unreadable_call_store_is_reported_on_the_pages_and_as_503(client, user_with_role, tmp_path, settings,
                                                                      voice_lines):
    from linewatch.voice.store import store_path
    from web.voice.config import voice

    voice_setup(tmp_path, settings)
    path = store_path(settings.LINEWATCH, voice().config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database" * 100)
    client.force_login(user_with_role("admin"))
    assert 'id="no-data"' in _text(client.get("/voice/calls/"))
    assert 'id="no-data"' in _text(client.get("/voice/departments/"))
    assert client.get("/api/voice/calls/").status_code == 503


def test_without_voice_yaml_the_api_lists_no_calls(client, user_with_role, settings, tmp_path, voice_lines):
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"voice_path": tmp_path / "absent.yaml"})
    client.force_login(user_with_role("admin"))
    response = client.get("/api/voice/calls/")
    assert response.status_code == 200 and response.json()["count"] == 0
    assert 'id="no-calls"' in _text(client.get("/voice/calls/"))


def test_a_viewer_sees_the_trunks_but_not_the_calls(client, user_with_role, store):
    client.force_login(user_with_role("viewer"))
    assert client.get("/voice/").status_code == 200
    assert client.get("/voice/calls/").status_code == 403
    assert client.get("/api/voice/calls/").status_code == 403


def test_the_rate_plans_page_shows_voice_yamls_plans_and_unknown_ones(client, user_with_role, tmp_path, settings,
                                                                     voice_lines):
    from pathlib import Path

    repo_voice = (Path(__file__).resolve().parents[2] / "config" / "voice.yaml").read_text(encoding="utf-8")
    voice_setup(tmp_path, settings, repo_voice.replace("extensions: extensions.csv", ""))
    voice_lines["fra"].rate_plan = "dtag-sip-business"
    voice_lines["par"].rate_plan = "gone-plan"
    voice_lines["fra"].save()
    voice_lines["par"].save()
    client.force_login(user_with_role("viewer"))
    html = _text(client.get("/voice/rate-plans/"))
    assert 'id="plan-dtag-sip-business"' in html and 'id="plan-obs-sip-fr"' in html
    assert "60/60" in html
    assert 'id="unknown-plans"' in html and "gone-plan" in html


# -- the InfluxDB figures --------------------------------------------------------------------------------------
def _tags(line: str) -> dict[str, str]:
    return {"line": line, "carrier": "Telia", "site": "Frankfurt", "department": "Sales", "line_type": "voice_trunk"}


def _trunk(t: int, line: str, **fields) -> Point:
    return Point("voice_trunk", _tags(line), fields, t * 10**9)


NOW = T + 600


def _points() -> list[Point]:
    return [
        _trunk(T, "FRA-VOICE-1", channels=30, busy_max=5, busy_mean=3.5, attempts=10, answered=8, failed=2,
               blocked=1, cost=1.25, minutes_inbound=10.0, minutes_outbound=20.5, minutes_internal=0.0),
        _trunk(T + 60, "FRA-VOICE-1", channels=30, busy_max=7, busy_mean=6.0, attempts=4, answered=4, failed=0,
               blocked=0, cost=0.75, minutes_inbound=1.0, minutes_outbound=2.0, minutes_internal=0.5),
        _trunk(T - 86_400, "FRA-VOICE-1", attempts=100, answered=90, failed=10, blocked=0, cost=50.0,
               minutes_inbound=1.0, minutes_outbound=1.0, minutes_internal=0.0),  # yesterday: not today's
        _trunk(NOW - 120, "PAR-VOICE-1", channels=10, busy_max=9, attempts=3, answered=2, failed=1, blocked=1,
               cost=0.2, minutes_inbound=1.0, minutes_outbound=1.0, minutes_internal=0.0),
        Point("voice_live", {"source": "kamailio", "line": "FRA-VOICE-1"}, {"active": 24}, (NOW - 30) * 10**9),
        Point("voice_live", {"source": "kamailio", "line": "FRA-VOICE-1"}, {"active": 99}, (NOW - 900) * 10**9),
        Point("voice_capacity", _tags("PAR-VOICE-1"),
              {"busy_hour_erlangs": 8.1, "busy_hour_start_s": NOV_16 - 86_400 + 10 * 3600, "offered_erlangs": 9.0,
               "blocking_pct": 16.8, "channels": 10, "channels_needed": 17, "blocked": 40, "calls": 500},
              (NOV_16 - 86_400) * 10**9),
        Point("voice_capacity", _tags("FRA-VOICE-1"),
              {"busy_hour_erlangs": 12.0, "busy_hour_start_s": NOV_16 - 86_400 + 10 * 3600, "offered_erlangs": 12.0,
               "blocking_pct": 0.0, "channels": 30, "channels_needed": 20, "blocked": 0, "calls": 900},
              (NOV_16 - 86_400) * 10**9),
        Point("voice_minutes", _tags("FRA-VOICE-1") | {"direction": "outbound", "dest_class": "international"},
              {"calls": 2, "answered": 2, "minutes": 3.0, "cost": 9.8}, T * 10**9),
        Point("voice_minutes", _tags("FRA-VOICE-1") | {"direction": "outbound", "dest_class": "national"},
              {"calls": 5, "answered": 4, "minutes": 12.0, "cost": 0.3}, T * 10**9),
        Point("voice_minutes", _tags("FRA-VOICE-1") | {"direction": "inbound", "dest_class": "national"},
              {"calls": 1, "answered": 1, "minutes": 2.0, "cost": 0.0}, (T + 60) * 10**9),
    ]


@pytest.fixture
def influx(influx_db, settings):
    url, dbname = influx_db
    influx_settings = InfluxSettings(url=url, database=dbname)
    with InfluxClient(influx_settings) as client:
        client.write(encode_points(_points()))
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": influx_settings})
    return influx_settings


def _measure(influx_settings) -> dict[str, trunks.TrunkFigures]:
    day_start = dt.datetime.combine(DAY, dt.time(), tzinfo=BERLIN).timestamp()
    with InfluxClient(influx_settings) as client:
        return trunks.measure(client, {"FRA-VOICE-1": 30, "PAR-VOICE-1": 10, "LON-VOICE-9": None}, now_s=NOW,
                              day_start_s=day_start, gos=0.01)


def test_busy_now_is_the_live_count_else_the_newest_minute(influx):
    figures = _measure(influx)
    assert (figures["FRA-VOICE-1"].busy_now, figures["FRA-VOICE-1"].busy_source) == (24, "live")
    assert figures["FRA-VOICE-1"].busy_pct == pytest.approx(80.0)
    assert (figures["PAR-VOICE-1"].busy_now, figures["PAR-VOICE-1"].busy_source) == (9, "cdr")
    assert figures["LON-VOICE-9"].busy_now is None


def test_todays_calls_blocked_minutes_and_cost_since_local_midnight(influx):
    fra = _measure(influx)["FRA-VOICE-1"]
    assert (fra.calls_today, fra.answered_today, fra.blocked_today) == (14, 12, 1)
    assert fra.minutes_today == pytest.approx(34.0)
    assert fra.cost_today == pytest.approx(2.0)


def test_yesterdays_busy_hour_gives_erlang_b_blocking_and_the_channels_needed(influx):
    figures = _measure(influx)
    par, fra = figures["PAR-VOICE-1"], figures["FRA-VOICE-1"]
    assert par.busy_hour_erlangs == pytest.approx(8.1)
    assert par.blocking_pct == pytest.approx(16.8, abs=0.1)  # Erlang B, 9 E offered on 10 channels
    assert (par.channels_needed, par.spare_channels) == (17, -7)
    assert (fra.channels_needed, fra.spare_channels) == (20, 10)


def test_the_trunks_page_shows_the_figures(client, user_with_role, store, influx, monkeypatch):
    monkeypatch.setattr(trunks, "clock", lambda: NOW)
    client.force_login(user_with_role("viewer"))
    html = _text(client.get("/voice/"))
    fra = html.split('data-line="FRA-VOICE-1"')[1].split("</tr>")[0]
    assert '<td class="busy-now">24 (80 %)' in fra
    assert '<td class="calls-today">14</td>' in fra and '<td class="blocked-today">1</td>' in fra
    par = html.split('data-line="PAR-VOICE-1"')[1].split("</tr>")[0]
    assert '<td class="channels-needed">17' in par


def test_the_trunks_page_renders_without_influxdb(client, user_with_role, voice_lines, settings):
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": InfluxSettings(
        url="http://127.0.0.1:9", database="none", timeout_s=1)})
    client.force_login(user_with_role("viewer"))
    html = _text(client.get("/voice/"))
    assert 'id="no-data"' in html and 'data-line="FRA-VOICE-1"' in html


def test_the_line_page_shows_a_voice_lines_minutes_by_class_cost_and_latest_calls(client, user_with_role, store,
                                                                                  influx, monkeypatch):
    monkeypatch.setattr(trunks, "clock", lambda: NOW)
    line = Line.objects.get(name="FRA-VOICE-1")
    client.force_login(user_with_role("noc"))
    html = _text(client.get(f"/inventory/lines/{line.pk}/"))
    section = html.split('id="voice-calls"')[1]
    assert 'data-class="national"' in section and 'data-class="international"' in section
    assert section.index('data-class="national"') < section.index('data-class="international"')  # by minutes
    assert '<dd class="month-cost">' in section
    assert section.count('<tr class="call') == 5  # every FRA call since last month (not Paris)
    client.force_login(user_with_role("viewer"))
    viewer = _text(client.get(f"/inventory/lines/{line.pk}/"))
    assert 'id="voice-calls"' in viewer and '<tr class="call' not in viewer


def test_a_line_that_is_not_a_voice_trunk_has_no_voice_section(client, user_with_role, make_inventory):
    line = make_inventory(1)["lines"][0]
    assert line.type != LineType.VOICE_TRUNK
    client.force_login(user_with_role("viewer"))
    assert 'id="voice-calls"' not in _text(client.get(f"/inventory/lines/{line.pk}/"))


@pytest.mark.parametrize(("language", "title", "outbound", "blocked"),
                         [("en", "Voice trunks", "Outbound", "Blocked"), ("ko", "음성 트렁크", "발신", "통화 차단(호 손실)")])
def test_the_voice_pages_speak_the_users_language(client, user_with_role, store, language, title, outbound,
                                                  blocked):
    client.force_login(user_with_role("finance"))
    assert title in _text(client.get("/voice/", HTTP_ACCEPT_LANGUAGE=language))
    calls_page = _text(client.get(f"/voice/calls/?day={DAY.isoformat()}", HTTP_ACCEPT_LANGUAGE=language))
    assert f"<td>{outbound}</td>" in calls_page and blocked in calls_page
    csv_text = client.get(f"/voice/calls/export.csv?day={DAY.isoformat()}",
                          HTTP_ACCEPT_LANGUAGE=language).content.decode("utf-8-sig")
    assert csv_text.startswith("시작,회선" if language == "ko" else "Start,Line")
