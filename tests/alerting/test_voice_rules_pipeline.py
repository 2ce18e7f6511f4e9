"""The shipped voice rules (config/alerts.yaml) on what the real voice pipeline makes of calls: the demo inventory
and voice.yaml (numbering, rate plans), H2's rater, H3's call store and aggregation, a real influxd — a night-time
burst of calls to high-risk numbers on FRA-VOICE-1 trips the toll-fraud rules, naming the destinations; the
trunks' normal traffic trips nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alerting.config import VOICE_RULE_KINDS, load_alerts
from alerting.service import AlertService
from alerting.store import AlertStore
from alerting.voice_calls import StoreDestinations, VoiceFacts
from collector.voice.pipeline import VoicePipeline
from linewatch.influx import InfluxClient, Point, encode_points
from linewatch.inventory import Inventory, load_inventory
from linewatch.settings import load_settings
from linewatch.voice.config import load_voice_config
from linewatch.voice.frame import CALL_COLUMNS, conform
from linewatch.voice.store import CallStore
from tests.alerting.conftest import Clock
from tests.alerting.test_voice_rules import _at, call_frame

REPO = Path(__file__).resolve().parents[2]
NIGHT = _at("Europe/Berlin", 2026, 11, 25, 3, 0)  # a Wednesday, 03:00 in Frankfurt
DAY = _at("Europe/Berlin", 2026, 11, 25, 11, 0)


@dataclass
class _Batch:
    calls: pd.DataFrame
    problems: list[Any] = field(default_factory=list)
    rows: int = 0


class _Sink:
    def __init__(self, client: InfluxClient) -> None:
        self.client = client

    def write(self, points: Iterable[Point]) -> None:
        self.client.write(encode_points(list(points)))


def calls() -> pd.DataFrame:
    """FRA-VOICE-1: a working morning of national calls, and at night 6 calls to +882 (satellite) and 2 to +53
    (Cuba), both on voice.yaml's high-risk list; PAR-VOICE-1: a few local calls."""
    fra = {"trunk": "PJSIP/dtag-sip", "extension": "3101", "caller": "3101"}
    rows = [{**fra, "start_s": DAY + 97 * i, "callee": "069123456", "duration_s": 240.0} for i in range(20)]
    rows += [{**fra, "start_s": NIGHT + 45 * i, "callee": f"0088216{i:07d}", "duration_s": 600.0} for i in range(6)]
    rows += [{**fra, "start_s": NIGHT + 400 + 30 * i, "callee": f"00535{i:07d}", "duration_s": 300.0}
             for i in range(2)]
    rows += [{"line": "PAR-VOICE-1", "trunk": "obs-par", "extension": "4101", "caller": "4101",
              "start_s": DAY + 300 * i, "callee": "0142345678", "duration_s": 180.0} for i in range(5)]
    return conform(call_frame(rows), CALL_COLUMNS)


@pytest.fixture
def pipeline_data(tmp_path: Path, influx: InfluxClient) -> Iterator[tuple[Inventory, Path]]:
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    config = load_voice_config(load_settings(REPO / "config" / "linewatch.yaml"), inventory)
    path = tmp_path / "calls.sqlite"
    with CallStore(path) as store:
        VoicePipeline(config, inventory, store, _Sink(influx)).ingest(_Batch(calls()), offset=None, source="test")
    yield inventory, path


@pytest.mark.parametrize(("at_s", "expected"), [
    (NIGHT + 1800, {"toll_fraud/FRA-VOICE-1": ("firing", "critical", 8.0),
                    "after_hours_calls/FRA-VOICE-1": ("firing", "warning", 8.0)}),
    (DAY + 1800, {}),  # the morning's calls: nothing (the night's are older than the rules' hour)
], ids=["night-burst", "working-morning"])
def test_shipped_voice_rules_on_the_pipelines_output(tmp_path: Path, influx: InfluxClient, clock: Clock,
                                                     pipeline_data: tuple[Inventory, Path], at_s: int,
                                                     expected: dict[str, tuple[str, str, float]]) -> None:
    inventory, store_path = pipeline_data
    config = load_alerts(REPO / "config" / "alerts.yaml", inventory=inventory)
    service = AlertService(config=config, inventory=inventory, client=influx,
                           store=AlertStore(tmp_path / "state" / "alerts.sqlite"), clock=clock,
                           voice=VoiceFacts(StoreDestinations(store_path), {"dtag-sip-business": "EUR"}))
    try:
        report = service.evaluate(at_s)
    finally:
        service.close()
    assert not report.rule_errors
    voice = {a.key: (a.status.state.value, a.status.severity.value, a.status.value) for a in report.changes
             if a.info.get("kind") in VOICE_RULE_KINDS}
    assert voice == expected
    for alert in report.changes:
        if alert.rule == "toll_fraud":
            assert alert.info["destinations"] == ["+882… (6)", "+53… (2)"]
            assert alert.info["channels"] == 30
