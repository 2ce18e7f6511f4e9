"""Live concurrency (collector/voice/live.py): Kamailio's JSON-RPC answers read into ``voice_live`` points — against
the suite's real Kamailio while SIPp calls are up, an unreachable PBX reported as ok=0 once per outage, and the
answer shapes table-tested."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from voice_pipeline_support import inventory

from collector.voice.live import LiveError, LivePoller, active_of, profile_size_of
from collector.voice.pbx import Pbx
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.servers.ports import free_tcp_port
from linewatch.servers.sipp import SippCall
from linewatch.voice.config import LiveSource, voice_lines


@pytest.mark.parametrize(("result", "expected"), [
    pytest.param({"starting": 1, "connecting": 0, "answering": 2, "ongoing": 4, "all": 7}, 7, id="all"),
    pytest.param({"starting": 1, "connecting": 1, "answering": 0, "ongoing": 3}, 5, id="sum-without-all"),
    pytest.param({"all": 0}, 0, id="idle"),
])
def test_active_of_stats_active(result, expected: int) -> None:
    assert active_of(result) == expected


@pytest.mark.parametrize("result", [
    pytest.param({"all": -1}, id="negative"), pytest.param({"all": "3"}, id="text"),
    pytest.param([1, 2], id="list"), pytest.param({"other": 1}, id="no-dialog-fields"),
    pytest.param({"all": 1.5}, id="fraction"), pytest.param({"all": True}, id="boolean"),
])
def test_active_of_refuses_nonsense(result) -> None:
    with pytest.raises(LiveError):
        active_of(result)


@pytest.mark.parametrize(("result", "expected"), [
    pytest.param(3, 3, id="bare-number"), pytest.param({"size": 2}, 2, id="size"),
    pytest.param({"profile": "trunk", "value": "obs", "count": 4}, 4, id="count"), pytest.param([5], 5, id="list"),
])
def test_profile_size_of(result, expected: int) -> None:
    assert profile_size_of(result) == expected


def live_source(url: str, **extra) -> LiveSource:
    return LiveSource(name="kamailio", kind="kamailio_jsonrpc", url=url, timeout_s=1.0,
                      trunks={"dtag-fra": "FRA-VOICE-1", "obs-par": "PAR-VOICE-1"}, **extra)


def test_counts_follow_the_calls_up_on_a_real_kamailio(kamailio_pbx: Pbx, tmp_path: Path,
                                                        influx_db: tuple[str, str]) -> None:
    lines = voice_lines(inventory(tmp_path))
    poller = LivePoller([live_source(kamailio_pbx.kamailio.rpc_url)], lines)
    calls = [SippCall("3111", f"+4969556{n:03d}", 3.0) for n in range(3)]
    calls += [SippCall("4111", f"+3318001{n:03d}", 3.0) for n in range(2)]
    run = kamailio_pbx.caller(calls, rate_per_s=50).start()
    time.sleep(1.2)
    [during] = poller.poll()
    run.wait(timeout_s=15)
    time.sleep(0.3)
    [after] = poller.poll()
    assert (during.ok, during.active, during.per_line) == (True, 5, {"FRA-VOICE-1": 3, "PAR-VOICE-1": 2})
    assert (after.active, after.per_line) == (0, {"FRA-VOICE-1": 0, "PAR-VOICE-1": 0})

    url, db = influx_db
    settings = InfluxSettings(url=url, database=db, spool={"path": tmp_path / "spool"})
    with PointWriter.from_settings(settings) as writer:
        writer.write(poller.points([during], now_s=1_764_547_200.7))
    with InfluxClient(settings) as client:
        total = client.query("SELECT active, ok FROM voice_live WHERE line = ''")[0]["values"]
        per_line = client.query("SELECT active FROM voice_live WHERE line != '' GROUP BY line, site")
    assert total == [[1_764_547_200, 5, 1]]
    assert {(s["tags"]["line"], s["tags"]["site"], s["values"][0][1]) for s in per_line} == {
        ("FRA-VOICE-1", "Frankfurt", 3), ("PAR-VOICE-1", "Paris", 2)}
    poller.close()


def test_an_unreachable_pbx_is_ok_0_and_logged_once_per_outage(tmp_path: Path, kamailio_pbx: Pbx,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    lines = voice_lines(inventory(tmp_path))
    dead = live_source(f"http://127.0.0.1:{free_tcp_port()}/RPC").model_copy(update={"name": "dead"})
    poller = LivePoller([dead, live_source(kamailio_pbx.kamailio.rpc_url)], lines)
    with caplog.at_level(logging.INFO, logger="collector.voice.live"):
        first, alive = poller.poll()
        second, _ = poller.poll()
    assert (first.ok, first.active) == (False, None) and "cannot reach" in first.error
    assert second.ok is False and alive.ok is True  # the other source is polled as usual
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "dead" in caplog.records[0].message and len(caplog.records) == 1
    points = poller.points([first], now_s=100.0)
    assert [(p.tags, dict(p.fields)) for p in points] == [({"source": "dead"}, {"ok": 0})]
    # recovery is logged once
    poller._clients["dead"].url = kamailio_pbx.kamailio.rpc_url
    with caplog.at_level(logging.INFO, logger="collector.voice.live"):
        caplog.clear()
        recovered, _ = poller.poll()
    assert recovered.ok and "answers again" in caplog.records[0].message
    poller.close()


def test_an_unknown_profile_is_an_error_answer(tmp_path: Path, kamailio_pbx: Pbx) -> None:
    poller = LivePoller([live_source(kamailio_pbx.kamailio.rpc_url, profile="no-such-profile")],
                        voice_lines(inventory(tmp_path)))
    [reading] = poller.poll()
    assert not reading.ok and "dlg.profile_get_size: error" in reading.error
    poller.close()
