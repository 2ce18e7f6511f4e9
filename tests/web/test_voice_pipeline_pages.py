"""The voice pages on the real voice pipeline's output: calls through ``collector.voice.pipeline.VoicePipeline``
(the demo's lines.yaml and voice.yaml: rating, the call store, aggregation) into the real influxd, then the trunks
page's figures, the line page's classes and the cost per department agree with what went in."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from voice_support import voice_setup

from collector.voice.pipeline import VoicePipeline
from linewatch.choices import LineType
from linewatch.influx import InfluxClient, InfluxSettings, encode_points
from linewatch.inventory import load_inventory
from linewatch.voice.config import load_voice_file
from linewatch.voice.frame import CALL_COLUMNS, conform
from linewatch.voice.store import CallStore
from web.inventory.models import Department
from web.voice import trunks
from web.voice.models import Extension

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
DAY_START = dt.datetime(2026, 11, 25, tzinfo=BERLIN).timestamp()  # a Wednesday
T = DAY_START + 11 * 3600  # 11:00 in Frankfurt


@dataclass
class _Batch:
    calls: pd.DataFrame
    problems: list[Any] = field(default_factory=list)
    rows: int = 0


class _Sink:
    def __init__(self, client: InfluxClient) -> None:
        self.client = client

    def write(self, points: Any) -> None:
        self.client.write(encode_points(list(points)))


def _calls() -> pd.DataFrame:
    """FRA-VOICE-1: 6 mobile calls of 5 minutes (not in the national bundle: charged), one every minute (5 up at once), extensions 3101 (Sales) and
    3150 (Engineering); PAR-VOICE-1: 3 answered local calls and 2 blocked (503) from 4101."""
    rows = []
    for i in range(6):
        ext = "3101" if i % 2 == 0 else "3150"
        rows.append({"line": "FRA-VOICE-1", "trunk": "PJSIP/dtag-1", "extension": ext, "caller": ext,
                     "callee": "01711234567", "start_s": T + 60 * i, "answer_s": T + 60 * i + 5,
                     "end_s": T + 60 * i + 300, "outcome": "answered", "sip_code": 200})
    for i in range(5):
        blocked = i >= 3
        rows.append({"line": "PAR-VOICE-1", "trunk": "PJSIP/obs-1", "extension": "4101", "caller": "4101",
                     "callee": "0142345678", "start_s": T + 30 * i, "answer_s": None if blocked else T + 30 * i + 3,
                     "end_s": T + 30 * i + (1 if blocked else 183), "outcome": "blocked" if blocked else "answered",
                     "sip_code": 503 if blocked else 200})
    for n, r in enumerate(rows):
        r |= {"call_key": f"k{n}", "source": f"test:{n}", "direction": "outbound", "q850_cause": None}
        r["duration_s"] = r["end_s"] - r["start_s"]
        r["billsec_s"] = r["end_s"] - r["answer_s"] if r["answer_s"] is not None else 0.0
    frame = pd.DataFrame([{c: r.get(c) for c in CALL_COLUMNS} for r in rows])
    return conform(frame.astype({"answer_s": "float64"}), CALL_COLUMNS)


@pytest.fixture
def pipeline(tmp_path, settings, influx_db, make_inventory):
    settings.TIME_ZONE = "Europe/Berlin"
    repo_voice = (REPO / "config" / "voice.yaml").read_text(encoding="utf-8")
    store_path = voice_setup(tmp_path, settings, repo_voice.replace("store_path: ../run/var/calls.sqlite",
                                                                    "store_path: calls.sqlite")
                             .replace("extensions: extensions.csv", ""))
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    config = load_voice_file(REPO / "config" / "voice.yaml", inventory)
    url, dbname = influx_db
    influx = InfluxSettings(url=url, database=dbname, gzip=False)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": influx})
    with InfluxClient(influx) as client, CallStore(store_path) as store:
        VoicePipeline(config, inventory, store, _Sink(client)).ingest(_Batch(_calls()), offset=None, source="test")
    inv = make_inventory(2)
    for line, name, plan in zip(inv["lines"], ("FRA-VOICE-1", "PAR-VOICE-1"), ("dtag-sip-business", "obs-sip-fr"),
                                strict=True):
        line.name, line.type, line.status, line.rate_plan = name, LineType.VOICE_TRUNK, "active", plan
        line.channels = next(y.channels for y in inventory.lines if y.id == name)
        line.save()
    Extension.objects.create(number="31*", department=Department.objects.get(name="Sales"))
    Extension.objects.create(number="315*", department=Department.objects.get(name="Engineering"))
    with CallStore(store_path, read_only=True) as store:
        stored = store.calls(start_s=DAY_START, end_s=DAY_START + 86_400)
    return {"influx": influx, "stored": stored}


def test_the_trunks_figures_are_the_pipelines_counts(pipeline):
    with InfluxClient(pipeline["influx"]) as client:
        figures = trunks.measure(client, {"FRA-VOICE-1": 30, "PAR-VOICE-1": 10}, now_s=T + 3600,
                                 day_start_s=DAY_START, gos=0.01)
    fra, par = figures["FRA-VOICE-1"], figures["PAR-VOICE-1"]
    assert (fra.calls_today, fra.answered_today, fra.blocked_today) == (6, 6, 0)
    assert (par.calls_today, par.answered_today, par.blocked_today) == (5, 3, 2)
    stored = pipeline["stored"]
    for line, t in (("FRA-VOICE-1", fra), ("PAR-VOICE-1", par)):
        mine = stored[stored["line"] == line]
        assert t.cost_today == pytest.approx(float(mine["cost"].sum()), abs=1e-6)
        assert t.minutes_today == pytest.approx(float(mine["billsec_s"].sum()) / 60, abs=1e-6)
    assert fra.cost_today > 0  # the demo plan rated the national calls


def test_the_department_costs_page_splits_the_pipelines_calls_by_extension(client, user_with_role, pipeline):
    client.force_login(user_with_role("finance"))
    html = client.get("/voice/departments/?period=2026-11").content.decode()
    rows = html.split('<tr class="department">')[1:]
    assert [r.split("</td>")[0] for r in rows] == ["<td>Engineering", "<td>Sales",
                                                  "<td>No department (extension not in the directory)"]
    assert [r.split("</td>")[1] for r in rows] == ["<td>3", "<td>3", "<td>5"]


def test_the_line_page_shows_the_pipelines_minutes_by_class(client, user_with_role, pipeline, monkeypatch):
    from web.inventory.models import Line

    monkeypatch.setattr(trunks, "clock", lambda: T + 3600)
    client.force_login(user_with_role("noc"))
    html = client.get(f"/inventory/lines/{Line.objects.get(name='PAR-VOICE-1').pk}/").content.decode()
    section = html.split('id="voice-calls"')[1]
    stored = pipeline["stored"]
    [dest_class] = stored.loc[stored["line"] == "PAR-VOICE-1", "dest_class"].unique()
    row = section.split(f'data-class="{dest_class}"')[1].split("</tr>")[0]
    assert "<td>5</td><td>3</td><td>9.0</td>" in row  # 5 calls, 3 answered, 3 × 3 minutes
    assert '<dd class="month-cost">' in section and "EUR</dd>" in section.split('<dd class="month-cost">')[1][:40]
    assert section.count('<tr class="call') == 5

