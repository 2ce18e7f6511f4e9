"""The voice demo's parts on a copy of the demo configuration: the backfill fills the call store through the voice
pipeline (resuming offset committed), and the live stage runs the real PBX — Paris refused calls over its channels,
the toll-fraud burst to high-risk numbers on Frankfurt — with the voice collector loading Kamailio's CDRs."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from collector.voice import demo
from linewatch.demo import demo_settings
from linewatch.influx import PointWriter
from linewatch.inventory import load_inventory
from linewatch.servers.ports import free_udp_port
from linewatch.servers.sipp import SippCall
from linewatch.settings import load_settings
from linewatch.voice.config import load_voice_config
from linewatch.voice.store import open_store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ctx(tmp_path: Path, influx_db: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The demo's config copied (voice.yaml's paths point into the copy's run folder), its own InfluxDB database and
    free ports for the PBX (a `make run` on the machine may hold the demo's)."""
    url, db = influx_db
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    sip_port = free_udp_port()
    voice = config / "voice.yaml"
    voice.write_text(re.sub(r"127\.0\.0\.1:15060", f"127.0.0.1:{sip_port}", voice.read_text()))
    monkeypatch.setenv("LINEWATCH_INFLUX__URL", url)
    monkeypatch.setenv("LINEWATCH_INFLUX__DATABASE", db)
    monkeypatch.setenv("LINEWATCH_COLLECTOR__INTERVAL_S", "2")
    monkeypatch.setattr(demo, "SIP_PORT", sip_port)
    monkeypatch.setattr(demo, "CARRIER_PORT", free_udp_port())
    monkeypatch.setattr(demo, "FIRST_CALLER_PORT", free_udp_port())
    run_dir = tmp_path / "run"
    settings = demo_settings(load_settings(config / "linewatch.yaml"), run_dir)
    inventory = load_inventory(settings.resolve(settings.inventory_path))
    return SimpleNamespace(settings=settings, run_dir=run_dir, inventory=inventory, stop_event=threading.Event(),
                           history=True, seconds=0)  # fmt: skip


@pytest.mark.parametrize(
    ("now", "months_back", "expected"),
    [("2026-12-02T08:00:00+00:00", 1, "2026-11-01T00:00:00+01:00"),
     ("2026-01-15T12:00:00+00:00", 1, "2025-12-01T00:00:00+01:00"),
     ("2026-04-30T23:30:00+00:00", 1, "2026-04-01T00:00:00+02:00")],  # already May 1st in Berlin
    ids=["december", "over-new-year", "berlin-ahead-of-utc"],
)
def test_the_backfill_starts_on_the_first_of_the_previous_month_in_berlin(now: str, months_back: int,
                                                                          expected: str) -> None:  # fmt: skip
    from datetime import datetime

    start = demo.month_start_s(datetime.fromisoformat(now).timestamp(), months_back=months_back)
    assert start == datetime.fromisoformat(expected).timestamp()


def test_the_backfill_loads_the_modelled_calls_once_and_commits_the_offset(ctx: SimpleNamespace,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "month_start_s", lambda now_s: now_s - 6 * 3600)  # six hours, not a month
    with demo.backfill(ctx):
        pass
    config = load_voice_config(ctx.settings, ctx.inventory)
    with open_store(ctx.settings, config) as store:
        loaded = store.count()
        offset = store.offset("asterisk")
        lines = set(store.calls(start_s=0, end_s=time.time(), columns=["line"])["line"].dropna())
    master = ctx.run_dir / "cdr" / "asterisk" / "Master.csv"
    assert loaded > 100 and lines == {"FRA-VOICE-1", "PAR-VOICE-1"}
    assert offset is not None and offset.offset == master.stat().st_size


def test_a_second_demo_appends_the_calls_since_the_first_backfill_without_loading_any_twice(
        ctx: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Regression: the month modelled again had other calls (other ids) and the store would hold both months."""
    monkeypatch.setattr(demo, "month_start_s", lambda now_s: now_s - 6 * 3600)
    with demo.backfill(ctx):
        pass
    master = ctx.run_dir / "cdr" / "asterisk" / "Master.csv"
    first_rows = master.read_bytes()
    state = ctx.run_dir / "var" / "voice-backfill.json"
    previous = json.loads(state.read_text())
    state.write_text(json.dumps(previous | {"end_s": previous["end_s"] - 3600}))  # as if it ended an hour ago
    config = load_voice_config(ctx.settings, ctx.inventory)
    with open_store(ctx.settings, config) as store:
        before = store.count()
    with demo.backfill(ctx):
        pass
    with open_store(ctx.settings, config) as store:
        after = store.count()
        assert store.offset("asterisk").offset == master.stat().st_size
    appended = master.read_bytes()
    assert appended.startswith(first_rows) and len(appended) > len(first_rows)
    assert after - before == appended[len(first_rows):].count(b"\n")  # the hour's calls, each once


@pytest.mark.slow
def test_the_live_stage_blocks_paris_calls_and_sends_the_fraud_burst(ctx: SimpleNamespace,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Held 3 s instead of 40 (same Erlangs): in a few seconds Paris runs into its 10 channels."""
    loads = tuple(dataclasses.replace(load, mean_hold_s=3.0, offered_erl=load.offered_erl * 1.3)
                  for load in demo.LOADS)  # fmt: skip
    monkeypatch.setattr(demo, "LOADS", loads)
    monkeypatch.setattr(demo, "BLOCK_S", 30)
    monkeypatch.setattr(demo, "FRAUD_AFTER_S", 2)
    monkeypatch.setattr(demo, "FRAUD_MEAN_HOLD_S", 2.0)
    monkeypatch.setattr(demo, "SUMMARY_EVERY_S", 5)
    collector_writer = PointWriter.from_settings(ctx.settings.influx_settings())  # as the SNMP collector's stage
    try:  # regression: the voice collector took the demo's spool, which that writer holds: the stage failed
        stage = threading.Thread(target=demo.demo_stage, args=(ctx,))
        stage.start()
        time.sleep(14)
        ctx.stop_event.set()
        stage.join(timeout=30)
    finally:
        collector_writer.close()
    assert not stage.is_alive()
    config = load_voice_config(ctx.settings, ctx.inventory)
    with open_store(ctx.settings, config) as store:
        calls = store.calls(start_s=time.time() - 120, end_s=time.time())
    par = calls[calls["line"] == "PAR-VOICE-1"]
    fra = calls[calls["line"] == "FRA-VOICE-1"]
    assert (par["outcome"] == "blocked").sum() > 0 and (par["outcome"] == "answered").sum() > 10
    fraud = fra[fra["extension"] == demo.FRAUD_EXTENSION]
    assert len(fraud) >= 5 and fraud["high_risk"].all()
    assert (fra["outcome"] == "blocked").sum() == 0  # 30 channels: none refused
    cdr_file = Path(config.source("kamailio").path)
    assert not cdr_file.is_symlink() and cdr_file.read_text().count("\n") >= len(calls)  # kept after the PBX


def test_fraud_calls_go_to_high_risk_international_numbers() -> None:
    import numpy as np

    calls = demo.fraud_calls(np.random.default_rng(1), n=6)
    assert all(isinstance(c, SippCall) and c.caller == demo.FRAUD_EXTENSION for c in calls)
    assert {c.callee[:4] for c in calls} == {"+882", "+535", "+252", "+675", "+232"}
