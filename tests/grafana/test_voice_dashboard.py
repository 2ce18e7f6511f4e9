"""What the voice dashboard and the NOC wall's voice panel show: their queries, as the committed JSON holds them and
substituted as Grafana does, run against a real InfluxDB holding three days of the demo trunks' calls through the
voice pipeline (tests/grafana/voice_demo_data.py), and give the figures the call store says."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
from grafana_macros import dashboard_range, interpolate, panel_interval, panel_range, query_targets
from voice_demo_data import LIVE_STEP_S, VoiceDemo, load_voice_demo

from linewatch import dashboards
from linewatch.choices import (
    UTILIZATION_CRITICAL_PCT,
    UTILIZATION_WARNING_PCT,
    CallOutcome,
    LineHealth,
    Severity,
)
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.inventory import Inventory, load_inventory
from linewatch.servers import InfluxdServer

REPO = Path(__file__).resolve().parents[2]
NOW_S = int(dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC).timestamp())
TODAY_S = NOW_S - NOW_S % 86400
DAYS = 3
MODELS = dashboards.load_dashboards()
VOICE = "voice.json"
TRUNKS = ("FRA-VOICE-1", "PAR-VOICE-1")
ALL = {"site": ".*", "carrier": ".*", "department": ".*", "line": ".*"}


def _influxql(url: str, statement: str) -> None:
    requests.post(f"{url}/query", params={"q": statement}, timeout=10).raise_for_status()


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(REPO / "config" / "lines.yaml")


@pytest.fixture(scope="module")
def loaded(influxd: InfluxdServer, inventory: Inventory,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InfluxClient, VoiceDemo]]:
    database = f"lw_voice_{uuid.uuid4().hex[:12]}"
    _influxql(influxd.url, f'CREATE DATABASE "{database}"')
    client = InfluxClient(InfluxSettings(url=influxd.url, database=database))
    try:
        demo = load_voice_demo(client, inventory, tmp_path_factory.mktemp("voice"), start_s=NOW_S - DAYS * 86400,
                               end_s=NOW_S, live_from_s=NOW_S - 3600)
        yield client, demo
    finally:
        client.close()
        _influxql(influxd.url, f'DROP DATABASE "{database}"')


@pytest.fixture(scope="module")
def client(loaded: tuple[InfluxClient, VoiceDemo]) -> InfluxClient:
    return loaded[0]


@pytest.fixture(scope="module")
def calls(loaded: tuple[InfluxClient, VoiceDemo]) -> pd.DataFrame:
    """Every stored call, rated (what the figures must add up to)."""
    return loaded[1].store.calls(start_s=NOW_S - 40 * 86400, end_s=NOW_S + 86400)


def _run(client: InfluxClient, dashboard: str, title: str, *, ref_id: str = "A", interval: str | None = None,
         **variables: str) -> list[dict]:
    """The panel's target substituted as Grafana does, run; one dict per row with the series' tags."""
    (target,) = [t for t in query_targets(dashboard, MODELS[dashboard])
                 if t.panel.startswith(title) and t.ref_id == ref_id]
    time_range = panel_range(dashboard_range(MODELS[dashboard], to_ms=NOW_S * 1000), target.time_from)
    interval = interval or panel_interval(time_range, max_data_points=target.max_data_points,
                                          min_interval=target.min_interval)
    query = interpolate(target.query, time_range=time_range, interval=interval, variables=ALL | variables)
    return [dict(zip(s["columns"], row, strict=True)) | s.get("tags", {})
            for s in client.query(query, epoch="s") for row in s["values"]]


def _by_line(rows: list[dict], field: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row["line"], []).append(row[field])
    return out


def _started(calls: pd.DataFrame, start_s: float, end_s: float = NOW_S) -> pd.DataFrame:
    return calls[(calls["start_s"] >= start_s) & (calls["start_s"] < end_s)]


# -- the dashboard as Grafana loads it ----------------------------------------------------------------------


def test_the_voice_dashboard_lists_the_voice_trunks_only(client: InfluxClient) -> None:
    variables = {v["name"]: v for v in MODELS[VOICE]["templating"]["list"]}
    assert list(variables) == ["site", "carrier", "department", "line"]
    line_values = {row[1] for s in client.query(variables["line"]["query"].replace("$site", ".*").replace(
        "$carrier", ".*").replace("$department", ".*")) for row in s["values"]}
    assert line_values == set(TRUNKS)
    assert MODELS[VOICE]["uid"] == "linewatch-voice"


def test_every_panel_title_is_in_english_and_korean() -> None:
    titles = [p["title"] for p in dashboards.iter_panels(MODELS[VOICE]["panels"])]
    titles += [p["title"] for p in MODELS["noc.json"]["panels"] if p["title"].startswith("Voice")]
    assert all(" · " in t and any("\uac00" <= ch <= "\ud7a3" for ch in t.split(" · ")[1]) for t in titles), titles


# -- busy channels, utilization, blocked calls ----------------------------------------------------------------


def test_busy_channels_reach_the_contract_on_the_paris_trunk_with_the_contract_and_80_pct_drawn(
        client: InfluxClient, inventory: Inventory) -> None:
    busy = _by_line(_run(client, VOICE, "Busy channels"), "busy")
    levels = _run(client, VOICE, "Busy channels", ref_id="B")
    assert max(busy["PAR-VOICE-1"]) == inventory.lines_by_id["PAR-VOICE-1"].channels == 10
    assert 0 < max(busy["FRA-VOICE-1"]) < inventory.lines_by_id["FRA-VOICE-1"].channels
    for line in TRUNKS:
        channels = inventory.lines_by_id[line].channels
        mine = [r for r in levels if r["line"] == line and r["channels"] is not None]
        assert {(r["channels"], r["warning"]) for r in mine} == {(channels, channels * UTILIZATION_WARNING_PCT / 100)}


def test_utilization_of_the_paris_trunk_reaches_100_pct_and_is_coloured_from_choices(
        client: InfluxClient) -> None:
    util = _by_line(_run(client, VOICE, "Channel utilization"), "utilization")
    assert max(util["PAR-VOICE-1"]) == 100 >= UTILIZATION_CRITICAL_PCT
    assert max(util["FRA-VOICE-1"]) < UTILIZATION_CRITICAL_PCT
    panel = next(p for p in MODELS[VOICE]["panels"] if p["title"].startswith("Channel utilization"))
    assert panel["fieldConfig"]["defaults"]["thresholds"] == dashboards.utilization_thresholds()


def test_blocked_calls_per_hour_add_up_to_the_blocked_calls_in_the_store(client: InfluxClient,
                                                                        calls: pd.DataFrame) -> None:
    blocked = _by_line(_run(client, VOICE, "Blocked calls per hour"), "blocked")
    # hour buckets: the first one starts at the hour the range starts in
    first_hour = (NOW_S - 86400) // 3600 * 3600
    expected = _started(calls[calls["outcome"] == CallOutcome.BLOCKED.value], first_hour).groupby("line").size()
    assert sum(blocked["PAR-VOICE-1"]) == expected["PAR-VOICE-1"] > 0
    assert sum(blocked.get("FRA-VOICE-1", [0])) == expected.get("FRA-VOICE-1", 0) == 0
    today = _by_line(_run(client, VOICE, "Blocked calls today"), "blocked")
    assert today["PAR-VOICE-1"] == [_started(calls, TODAY_S).query("outcome == 'blocked' and line == 'PAR-VOICE-1'")
                                    .shape[0]]


# -- capacity planning -----------------------------------------------------------------------------------------


def test_busy_hour_per_day_shows_more_channels_needed_in_paris_and_fewer_in_frankfurt(
        client: InfluxClient, inventory: Inventory) -> None:
    rows = _run(client, VOICE, "Busy-hour traffic per day")
    per_line = {line: [r for r in rows if r["line"] == line] for line in TRUNKS}
    assert all(len(days) == DAYS + 1 for days in per_line.values()), "one bar per UTC day the calls touch"
    par, fra = per_line["PAR-VOICE-1"], per_line["FRA-VOICE-1"]
    assert all(d["channels needed"] > d["channels"] == 10 for d in par[1:]), "blocking: MORE_CHANNELS"
    assert all(d["offered E"] > d["carried E"] for d in par[1:]), "blocked attempts are offered traffic"
    assert all(d["channels needed"] < d["channels"] == 30 for d in fra), "light load: FEWER_CHANNELS"
    latest = {r["line"]: r for r in _run(client, VOICE, "Busy hour, channels needed")}
    assert {line: latest[line]["channels"] for line in TRUNKS} == {
        line: inventory.lines_by_id[line].channels for line in TRUNKS}
    assert latest["PAR-VOICE-1"]["Erlangs"] == pytest.approx(par[-1]["carried E"])


# -- minutes, cost, ASR/ACD ------------------------------------------------------------------------------------


def test_minutes_by_destination_class_are_the_talk_minutes_of_the_answered_calls(client: InfluxClient,
                                                                                calls: pd.DataFrame) -> None:
    rows = _run(client, VOICE, "Minutes by class and direction")
    shown = {(r["dest_class"], r["direction"]): r["minutes"] for r in rows}
    first = NOW_S - 86400
    answered = _started(calls, first)
    answered = answered[answered["outcome"] == CallOutcome.ANSWERED.value]
    expected = (answered.groupby(["dest_class", "direction"])["billsec_s"].sum() / 60).to_dict()
    assert shown.keys() == expected.keys()
    for key, minutes in expected.items():
        assert shown[key] == pytest.approx(minutes, rel=1e-6), key
    stacked = _run(client, VOICE, "Minutes by destination class", interval="1h")
    hourly_first = first // 3600 * 3600
    assert sum(r["minutes"] for r in stacked) == pytest.approx(
        _started(calls, hourly_first).query("outcome == 'answered'")["billsec_s"].sum() / 60, rel=1e-6)


def test_cost_today_and_the_28_day_baseline_are_the_rated_costs_of_the_store(client: InfluxClient,
                                                                           calls: pd.DataFrame) -> None:
    today = {r["line"]: r["today"] for r in _run(client, VOICE, "Cost today")}
    baseline = {r["line"]: r["baseline"] for r in _run(client, VOICE, "Cost today", ref_id="B")}
    for line in TRUNKS:
        mine = calls[calls["line"] == line]
        assert today[line] == pytest.approx(_started(mine, TODAY_S)["cost"].sum(), abs=0.005), line
        # the last 28 days hold the three modelled days: their total over 28
        assert baseline[line] == pytest.approx(_started(mine, NOW_S - 28 * 86400)["cost"].sum() / 28, abs=0.005)
    assert today["FRA-VOICE-1"] > 0 and today["PAR-VOICE-1"] > 0


def test_asr_and_acd_are_weighted_over_the_calls_of_the_interval(client: InfluxClient, calls: pd.DataFrame) -> None:
    asr = {r["line"]: r for r in _run(client, VOICE, "ASR and ACD", interval="1d") if r["time"] == TODAY_S}
    acd = {r["line"]: r for r in _run(client, VOICE, "ASR and ACD", ref_id="B", interval="1d")
           if r["time"] == TODAY_S}
    for line in TRUNKS:
        mine = _started(calls[calls["line"] == line], TODAY_S)
        answered = mine[mine["outcome"] == CallOutcome.ANSWERED.value]
        assert asr[line]["ASR"] == pytest.approx(100 * len(answered) / len(mine), rel=1e-9)
        assert acd[line]["ACD"] == pytest.approx(answered["billsec_s"].mean(), rel=1e-6)
    assert asr["PAR-VOICE-1"]["ASR"] < asr["FRA-VOICE-1"]["ASR"], "blocked calls lower the Paris trunk's ASR"


# -- live calls: the dashboard and the NOC wall ------------------------------------------------------------


def _in_progress(calls: pd.DataFrame, t_s: float) -> dict[str, int]:
    up = calls[(calls["start_s"] <= t_s) & (calls["end_s"] > t_s)]
    return {line: int((up["line"] == line).sum()) for line in TRUNKS}


def test_calls_up_now_are_the_calls_in_progress_at_the_last_poll(client: InfluxClient, calls: pd.DataFrame) -> None:
    last_poll = NOW_S - LIVE_STEP_S
    now = {r["line"]: r["active"] for r in _run(client, VOICE, "Calls up now")}
    assert now == _in_progress(calls, last_poll)
    live = _by_line(_run(client, VOICE, "Live active calls"), "active")
    assert set(live) == set(TRUNKS), "the source's total (no line tag) is not a trunk"


def test_the_wall_has_each_trunks_busy_now_and_contracted_channels_coloured_at_80_and_95_pct(
        client: InfluxClient, calls: pd.DataFrame, inventory: Inventory) -> None:
    busy = {r["line"]: r["busy"] for r in _run(client, "noc.json", "Voice trunks")}
    channels = {r["line"]: r["channels"] for r in _run(client, "noc.json", "Voice trunks", ref_id="B")}
    assert busy == _in_progress(calls, NOW_S - LIVE_STEP_S)
    assert channels == {line: inventory.lines_by_id[line].channels for line in TRUNKS}
    panel = next(p for p in MODELS["noc.json"]["panels"] if p["title"].startswith("Voice trunks"))
    share = next(o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == "Busy")
    props = {p["id"]: p["value"] for p in share["properties"]}
    assert props["unit"] == "percentunit"
    assert props["thresholds"]["steps"] == [
        {"value": None, "color": LineHealth.UP.colour},
        {"value": UTILIZATION_WARNING_PCT / 100, "color": Severity.WARNING.colour},
        {"value": UTILIZATION_CRITICAL_PCT / 100, "color": Severity.CRITICAL.colour},
    ]
    calc = next(t for t in panel["transformations"] if t["id"] == "calculateField")["options"]["binary"]
    assert (calc["left"], calc["operator"], calc["right"]) == ("busy", "/", "channels")


@pytest.mark.parametrize(("selection", "shown"), [
    pytest.param({"site": "Paris"}, {"PAR-VOICE-1"}, id="paris-wall"),
    pytest.param({"carrier": "Deutsche\\ Telekom"}, {"FRA-VOICE-1"}, id="one-carrier"),
    pytest.param({"site": "Amsterdam"}, set(), id="a-site-without-trunks-shows-none"),
])
def test_the_wall_voice_panel_follows_the_selection(client: InfluxClient, selection: dict[str, str],
                                                   shown: set[str]) -> None:
    for ref_id in ("A", "B"):
        assert {r["line"] for r in _run(client, "noc.json", "Voice trunks", ref_id=ref_id, **selection)} == shown


def test_the_wall_still_fits_one_screen_with_the_voice_panel() -> None:
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in MODELS["noc.json"]["panels"])
    assert bottom <= 26 and not math.isnan(bottom)
