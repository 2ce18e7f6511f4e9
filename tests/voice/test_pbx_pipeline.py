"""End to end on the real PBX: SIPp places calls through Kamailio; Kamailio's CDR file, parsed by linewatch and run
through the voice pipeline into real InfluxDB, gives the attempts, answered and blocked calls SIPp counted, the
concurrency Kamailio allowed and the channel-seconds SIPp held; the live JSON-RPC poll counts the calls up."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from voice_pipeline_support import VOICE_YAML, inventory, voice_config

from collector.voice.live import LivePoller
from collector.voice.pbx import Pbx
from collector.voice.pipeline import VoicePipeline
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.inventory import Inventory
from linewatch.servers.sipp import SippCall
from linewatch.voice.config import VoiceConfig, voice_lines
from linewatch.voice.formats import parse
from linewatch.voice.mapping import TrunkMapper
from linewatch.voice.store import CallStore
from tests.voice.conftest import PBX_TRUNKS, cdr_lines_of

PAR_CHANNELS = next(t.channels for t in PBX_TRUNKS if t.name == "obs-par")


def _voice_yaml(pbx: Pbx) -> str:
    return VOICE_YAML + f"""\
sources:
  - {{name: kamailio, format: kamailio, path: {pbx.cdr_path}}}
trunks:
  - {{match: dtag-fra, line: FRA-VOICE-1, source: kamailio}}
  - {{match: obs-par, line: PAR-VOICE-1, source: kamailio}}
live:
  - name: pbx
    kind: kamailio_jsonrpc
    url: {pbx.kamailio.rpc_url}
    trunks: {{dtag-fra: FRA-VOICE-1, obs-par: PAR-VOICE-1}}
"""


class Rig:
    def __init__(self, pbx: Pbx, config: VoiceConfig, inv: Inventory, pipeline: VoicePipeline, client: InfluxClient):
        self.pbx, self.config, self.inventory, self.pipeline, self.client = pbx, config, inv, pipeline, client

    def ingest(self, lines: list[str]) -> None:
        source = self.config.sources[0]
        mapper = TrunkMapper(self.config.trunks, self.inventory, source=source.name)
        batch = parse(("\n".join(lines) + "\n").encode(), source, mapper=mapper, file=str(source.path))
        assert not batch.problems
        self.pipeline.ingest(batch, offset=None, source=source.name)

    def trunk(self, line: str) -> dict:
        series = self.client.query(
            "SELECT sum(attempts) AS attempts, sum(answered) AS answered, sum(blocked) AS blocked, "
            "sum(failed) AS failed, max(busy_max) AS busy_max, sum(busy_mean) AS erlang_minutes "
            f"FROM voice_trunk WHERE line = '{line}'")  # fmt: skip
        return dict(zip(series[0]["columns"], series[0]["values"][0], strict=True)) if series else {}


@pytest.fixture
def rig(kamailio_pbx: Pbx, influx_db: tuple[str, str], tmp_path: Path) -> Iterator[Rig]:
    url, db = influx_db
    settings = InfluxSettings(url=url, database=db, spool={"path": tmp_path / "spool"})
    config = voice_config(tmp_path, _voice_yaml(kamailio_pbx))
    inv = inventory(tmp_path)
    writer, client, store = PointWriter.from_settings(settings), InfluxClient(settings), CallStore(tmp_path / "c.sqlite")
    try:
        yield Rig(kamailio_pbx, config, inv, VoicePipeline(config, inv, store, writer), client)
    finally:
        writer.close()
        client.close()
        store.close()


def test_counts_concurrency_and_erlangs_match_what_sipp_placed(rig: Rig) -> None:
    """PAR's Kamailio trunk has 4 channels: 7 calls of 6 s started within 0.35 s (4 carried, 3 refused over the
    limit), then one the carrier answers busy and one it refuses congested."""
    hold_s = 6.0
    calls = [SippCall(f"41{n:02d}", f"+3314000{n:04d}", hold_s) for n in range(7)]
    calls += [SippCall("4120", "+33140000486"), SippCall("4121", "+33140000503")]
    run = rig.pbx.place(calls, rate_per_s=20)
    sipp = run.counts()
    rig.ingest(cdr_lines_of(rig.pbx, run, expected=len(calls)))
    par = rig.trunk("PAR-VOICE-1")

    answered = sipp.received["200"] - sipp.sent["BYE"]  # 200s to the INVITEs
    refused = sipp.received["503"] + sipp.received["486"]
    assert (answered, refused) == (PAR_CHANNELS, 5)
    assert (par["attempts"], par["answered"], par["blocked"]) == (sipp.sent["INVITE"], answered, refused)
    assert par["failed"] == refused
    assert par["busy_max"] == PAR_CHANNELS  # what Kamailio's channel limit allowed, not one more
    carried_s = par["erlang_minutes"] * 60.0  # channel-seconds: the held calls (plus call set-up)
    assert carried_s == pytest.approx(answered * hold_s, abs=0.5)


def test_the_live_poll_counts_the_calls_up_per_trunk(rig: Rig) -> None:
    poller = LivePoller(rig.config.live, voice_lines(rig.inventory))
    run = rig.pbx.caller([SippCall("3140", f"+4969800{n:04d}", 3.0) for n in range(3)], rate_per_s=50).start()
    try:
        time.sleep(1.0)
        [during] = poller.poll()
        run.wait(timeout_s=15)
        time.sleep(0.2)
        [after] = poller.poll()
        points = poller.points([during], time.time())
    finally:
        poller.close()
    assert (during.ok, during.active, during.per_line) == (True, 3, {"FRA-VOICE-1": 3, "PAR-VOICE-1": 0})
    assert (after.active, after.per_line) == (0, {"FRA-VOICE-1": 0, "PAR-VOICE-1": 0})
    assert {(p.tags.get("line"), p.fields["active"]) for p in points} == {(None, 3), ("FRA-VOICE-1", 3),
                                                                          ("PAR-VOICE-1", 0)}  # fmt: skip
