"""Batch import through the real pipeline: a modelled week of Asterisk CDRs into the real call store and the real
InfluxDB, bad rows quarantined, a second import loading nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from cdr_support import T0, CdrEnv, cdr_env

from collector.voice.importer import import_file, line_chunks
from collector.voice.pipeline import VoicePipeline
from collector.voice.synth import write_asterisk_month
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.voice.store import CallStore

DAY = 86400


@pytest.fixture
def env(tmp_path: Path) -> CdrEnv:
    return cdr_env(tmp_path)


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
def pipeline(env: CdrEnv, tmp_path: Path, influx):
    writer, _ = influx
    with CallStore(tmp_path / "calls.sqlite") as store:
        yield VoicePipeline(env.config, env.inventory, store, writer)


def test_a_modelled_week_imports_into_the_store_and_influxdb(env: CdrEnv, pipeline: VoicePipeline, influx,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    rows = write_asterisk_month(path, env.inventory, start_s=T0, end_s=T0 + 2 * DAY, seed=7)
    with path.open("ab") as fh:  # one bad CDR among them
        fh.write(b'"","3101","0691","from-internal","x","PJSIP/3101-1","PJSIP/dtag-1","Dial","",'
                 b'"2026-11-02 25:00:00","","2026-11-02 09:00:01",1,0,"FAILED","DOCUMENTATION","1.2",""\n')
    summary = import_file(path, env.source("asterisk"), pipeline, chunk_bytes=256 << 10)
    assert (summary.rows, summary.loaded, summary.duplicates, summary.quarantined) == (rows + 1, rows, 0, 1)
    assert str(summary.problems[0]) == f"{path}:{rows + 1}: bad start time '2026-11-02 25:00:00'"
    stored = pipeline.store.calls(start_s=0, end_s=4e9)
    assert len(stored) == rows
    assert set(stored["line"].dropna()) == {"FRA-VOICE-1", "PAR-VOICE-1"}
    assert [str(p) for p in pipeline.store.problems(source="asterisk")] == [str(summary.problems[0])]
    _, client = influx
    series = client.query('SELECT sum("attempts") FROM "voice_trunk" GROUP BY "line"')
    attempts = {s["tags"]["line"]: s["values"][0][1] for s in series}
    trunk_calls = stored[stored["line"].notna()].groupby("line").size().to_dict()
    assert attempts == trunk_calls


def test_importing_the_same_file_again_loads_nothing_twice(env: CdrEnv, pipeline: VoicePipeline,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    rows = write_asterisk_month(path, env.inventory, start_s=T0, end_s=T0 + DAY / 2, seed=3)
    first = import_file(path, env.source("asterisk"), pipeline)
    again = import_file(path, env.source("asterisk"), pipeline, chunk_bytes=64 << 10)
    assert (first.loaded, again.loaded, again.duplicates) == (rows, 0, rows)


def test_line_chunks_cut_after_newlines_and_keep_a_last_line_without_one() -> None:
    data = b"a,1\nb,2\nc,3\nd,4"
    chunks = list(line_chunks(data, chunk_bytes=6))
    assert b"".join(c for c, _ in chunks) == data + b"\n"
    assert all(c.endswith(b"\n") for c, _ in chunks)
    assert [row for _, row in chunks] == [1, 2, 3, 4]
