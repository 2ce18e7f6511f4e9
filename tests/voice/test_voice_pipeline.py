"""The pipeline against real InfluxDB and a real call store: a batch is stored exactly once with its problems and
offset, the minutes and days it touches are rewritten from the store (late CDRs included), points survive an
InfluxDB outage in the writer's spool."""

from __future__ import annotations

from pathlib import Path

import pytest
from voice_pipeline_support import T0, calls, inventory, voice_config

from collector.voice.pipeline import VoicePipeline
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.voice.formats import ParsedBatch
from linewatch.voice.records import RowProblem, TailOffset
from linewatch.voice.store import CallStore


@pytest.fixture
def influx(influx_db: tuple[str, str], tmp_path: Path):
    url, db = influx_db
    settings = InfluxSettings(url=url, database=db, spool={"path": tmp_path / "spool"})
    writer = PointWriter.from_settings(settings)
    client = InfluxClient(settings)
    yield writer, client
    writer.close()
    client.close()


@pytest.fixture
def pipeline(tmp_path: Path, influx):
    writer, _ = influx
    store = CallStore(tmp_path / "calls.sqlite")
    yield VoicePipeline(voice_config(tmp_path), inventory(tmp_path), store, writer)
    store.close()


def rows(client: InfluxClient, q: str) -> list[dict]:
    series = client.query(q)
    return [dict(zip(s["columns"], v)) | s.get("tags", {}) for s in series for v in s["values"]]


def test_a_batch_is_stored_once_and_its_minutes_are_written(pipeline: VoicePipeline, influx) -> None:
    _, client = influx
    frame = calls([{"start": 0, "end": 90}, {"start": 10, "end": 40}, {"start": 20, "end": 20.5, "outcome": "blocked"},
                   {"start": 30, "end": 150, "line": "PAR-VOICE-1", "direction": "inbound"}])
    offset = TailOffset("pbx", "/x/Master.csv", 1, 2, "f", 400, 5)
    result = pipeline.ingest(ParsedBatch(frame, [RowProblem("Master.csv", 5, "bad date")], 5), offset=offset,
                             source="pbx")
    assert (result.new, result.duplicates, result.quarantined) == (4, 0, 1)
    assert pipeline.store.offset("pbx") == offset and pipeline.store.problem_count(source="pbx") == 1
    fra = rows(client, "SELECT * FROM voice_trunk WHERE line = 'FRA-VOICE-1'")
    assert [r["time"] for r in fra] == [T0, T0 + 60]
    first = fra[0]
    assert (first["attempts"], first["answered"], first["blocked"], first["failed"], first["busy_max"]) == (3, 2, 1, 1, 2)
    assert first["channels"] == 30 and first["carrier"] == "Deutsche Telekom" and first["line_type"] == "voice_trunk"
    assert fra[1]["attempts"] == 0 and fra[1]["busy_max"] == 1  # the 0-90 call still in progress
    par = rows(client, "SELECT * FROM voice_trunk WHERE line = 'PAR-VOICE-1'")
    assert [r["time"] for r in par] == [T0, T0 + 60, T0 + 120]
    classes = rows(client, "SELECT * FROM voice_minutes")
    assert {(r["line"], r["direction"], r["calls"]) for r in classes} == {
        ("FRA-VOICE-1", "outbound", 3), ("PAR-VOICE-1", "inbound", 1)}
    assert {r["dest_class"] for r in classes if r["direction"] == "outbound"} == {"national"}
    stored = pipeline.store.calls(start_s=T0, end_s=T0 + 60, lines=["FRA-VOICE-1"])
    assert set(stored["rate_plan"]) == {"plan-de"}  # rated before it was stored
    assert stored["bundle_s"].sum() == 180.0  # 90 s and 30 s national calls billed 120 s + 60 s (60/60) from the bundle


def test_re_reading_a_batch_adds_nothing_and_rewrites_the_same_points(pipeline: VoicePipeline, influx) -> None:
    _, client = influx
    frame = calls([{"start": 0, "end": 30}, {"start": 5, "end": 50}])
    pipeline.ingest(ParsedBatch(frame, [], 2), offset=None, source="pbx")
    again = pipeline.ingest(ParsedBatch(frame, [], 2), offset=None, source="pbx")
    assert (again.new, again.duplicates, again.points) == (0, 2, 0)
    assert rows(client, "SELECT attempts FROM voice_trunk")[0]["attempts"] == 2


def test_a_late_cdr_rewrites_the_minutes_it_overlaps(pipeline: VoicePipeline, influx) -> None:
    """A CDR arrives at the call's end: the minutes it spanned were written without it and are rewritten."""
    _, client = influx
    pipeline.ingest(ParsedBatch(calls([{"start": 0, "end": 170, "key": "a"}]), [], 1), offset=None, source="pbx")
    before = rows(client, "SELECT busy_max FROM voice_trunk WHERE line = 'FRA-VOICE-1'")
    assert [r["busy_max"] for r in before] == [1, 1, 1]
    pipeline.ingest(ParsedBatch(calls([{"start": 50, "end": 130, "key": "b"}]), [], 1), offset=None, source="pbx")
    after = rows(client, "SELECT busy_max, attempts FROM voice_trunk WHERE line = 'FRA-VOICE-1'")
    assert [r["busy_max"] for r in after] == [2, 2, 2]
    assert [r["attempts"] for r in after] == [2, 0, 0]  # the first minute's counts include both calls


def test_points_wait_in_the_spool_while_influxdb_is_down(tmp_path: Path, influxd_private) -> None:
    settings = InfluxSettings(url=influxd_private.url, database="voice", spool={"path": tmp_path / "spool"},
                              max_retry_s=0.5, max_attempts=1)
    writer = PointWriter.from_settings(settings)
    writer.client.ensure_database()
    with CallStore(tmp_path / "calls.sqlite") as store:
        pipe = VoicePipeline(voice_config(tmp_path), inventory(tmp_path), store, writer)
        influxd_private.stop()
        result = pipe.ingest(ParsedBatch(calls([{"start": 0, "end": 30}]), [], 1), offset=None, source="pbx")
        assert result.new == 1 and store.count() == 1
        assert writer.stats().spooled_batches >= 1
        influxd_private.start()
        writer.replay_spool()
    with InfluxClient(settings) as client:
        assert client.query("SELECT attempts FROM voice_trunk")[0]["values"][0][1] == 1
    writer.close()


def test_the_days_capacity_is_rewritten_with_each_batch(pipeline: VoicePipeline, influx) -> None:
    _, client = influx
    pipeline.ingest(ParsedBatch(calls([{"start": 3600, "end": 5400, "key": "a"}]), [], 1), offset=None, source="p")
    pipeline.ingest(ParsedBatch(calls([{"start": 3700, "end": 5500, "key": "b"},
                                       {"start": 3800, "end": 3800.2, "key": "c", "outcome": "blocked"}]), [], 2),
                    offset=None, source="p")
    [row] = rows(client, "SELECT * FROM voice_capacity")
    assert row["time"] == T0 and row["busy_hour_start_s"] == T0 + 3600
    assert (row["calls"], row["blocked"], row["channels"]) == (3, 1, 30)
    assert row["busy_hour_erlangs"] == pytest.approx(1.0)  # two calls of 30 min in the hour
    assert row["channels_needed"] >= 3
