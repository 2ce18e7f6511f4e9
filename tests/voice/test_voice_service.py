"""The voice collector (collector/voice/service.py, `linewatch voice …`) on real files and real InfluxDB: a CDR file
tailed across a restart loads every CDR exactly once, faults (a missing file, bad rows, InfluxDB down, a dead live
source) are survived and reported, and the commands' exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from voice_pipeline_support import INVENTORY_YAML, T0, asterisk_row

from collector.voice.service import VoiceService
from linewatch.cli import main
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.servers.ports import free_tcp_port
from linewatch.settings import load_settings

VOICE_YAML = """\
store_path: var/calls.sqlite
sources:
  - {name: pbx, format: asterisk, path: cdr/Master.csv}
trunks:
  - {match: "PJSIP/dtag-*", line: FRA-VOICE-1}
  - {match: "PJSIP/obs-*", line: PAR-VOICE-1}
rate_plans:
  - {name: plan-de, currency: EUR, rates: [{rate: "0.10"}]}
live:
  - {name: deadpbx, kind: kamailio_jsonrpc, url: "http://127.0.0.1:@PORT@/RPC", timeout_s: 0.5,
     trunks: {dtag-fra: FRA-VOICE-1}}
"""


@pytest.fixture
def site(tmp_path: Path, influx_db: tuple[str, str]) -> Path:
    url, db = influx_db
    (tmp_path / "lines.yaml").write_text(INVENTORY_YAML)
    (tmp_path / "voice.yaml").write_text(VOICE_YAML.replace("@PORT@", str(free_tcp_port())))
    (tmp_path / "cdr").mkdir()
    (tmp_path / "linewatch.yaml").write_text(
        f"influx: {{url: '{url}', database: {db}, spool: {{path: {tmp_path / 'spool'}}}}}\n"
        f"inventory_path: lines.yaml\nvoice_path: voice.yaml\nstate_dir: var\ncollector: {{interval_s: 1}}\n")
    return tmp_path


def client_of(site: Path) -> InfluxClient:
    return InfluxClient(load_settings(site / "linewatch.yaml").influx)


def append(path: Path, *rows: str) -> None:
    with path.open("a") as fh:
        fh.write("".join(rows))


def test_a_tailed_file_loads_each_cdr_once_across_a_restart(site: Path) -> None:
    cdr = site / "cdr" / "Master.csv"
    append(cdr, asterisk_row("u1", 0, 60, 55), asterisk_row("u2", 10, 30, 0, disposition="NO ANSWER"))
    settings = load_settings(site / "linewatch.yaml")
    with VoiceService(settings) as service:
        first = service.cycle(T0 + 120)
        assert (first.sources[0].new, first.sources[0].rows) == (2, 2)
        append(cdr, asterisk_row("u3", 20, 100, 90))
        second = service.cycle(T0 + 180)
        assert second.sources[0].new == 1
        append(cdr, asterisk_row("u4", 30, 20, 10, channel="PJSIP/dtag-00000009",
                                 dstchannel="PJSIP/3102-0000000a", src="069555", dst="3102"))
    with VoiceService(settings) as restarted:  # a new process: resumes at the committed offset
        third = restarted.cycle(T0 + 240)
        assert (third.sources[0].new, third.sources[0].duplicates) == (1, 0)
        assert restarted.store.count() == 4
        assert restarted.store.offset("pbx").row == 4
    with client_of(site) as client:
        [series] = client.query("SELECT attempts, answered, minutes_inbound FROM voice_trunk "
                                "WHERE line = 'FRA-VOICE-1' AND time = " + f"{T0}s")
    assert series["values"][0][1:] == [4, 3, pytest.approx(10 / 60)]


def test_a_missing_file_is_reported_and_read_once_it_appears(site: Path) -> None:
    with VoiceService(load_settings(site / "linewatch.yaml")) as service:
        report = service.cycle(T0)
        assert "missing" in report.sources[0].error and report.sources[0].new == 0
        append(site / "cdr" / "Master.csv", asterisk_row("u1", 0, 60, 55))
        assert service.cycle(T0 + 60).sources[0].new == 1


def test_bad_rows_are_quarantined_and_the_rest_loads(site: Path) -> None:
    append(site / "cdr" / "Master.csv", asterisk_row("u1", 0, 60, 55), '"x","truncated"\n',
           asterisk_row("u2", 5, 60, 55, dstchannel="PJSIP/unknown-trunk-0001"), asterisk_row("u3", 9, 60, 55))
    with VoiceService(load_settings(site / "linewatch.yaml")) as service:
        report = service.cycle(T0 + 60)
        assert (report.sources[0].new, report.sources[0].quarantined) == (2, 2)
        assert {p.row for p in service.store.problems(source="pbx")} == {2, 3}


def test_a_dead_live_source_and_influxdb_down_do_not_stop_the_cycle(site: Path, influxd_private) -> None:
    settings = load_settings(site / "linewatch.yaml")
    private = settings.influx.model_copy(update={"url": influxd_private.url, "max_retry_s": 0.5,
                                                 "max_attempts": 1, "database": "voice"})
    writer = PointWriter.from_settings(private)
    writer.client.ensure_database()
    append(site / "cdr" / "Master.csv", asterisk_row("u1", 0, 60, 55))
    influxd_private.stop()
    with VoiceService(settings, writer=writer) as service:
        report = service.cycle(T0 + 60)
        assert report.sources[0].new == 1 and report.sources[0].error == ""
        assert [r.ok for r in report.live] == [False]
        assert writer.stats().spooled_batches >= 1
    influxd_private.start()
    writer.replay_spool()
    with InfluxClient(private) as client:
        assert client.query("SELECT ok FROM voice_live")[0]["values"][0][1] == 0
        assert client.query("SELECT attempts FROM voice_trunk")[0]["values"][0][1] == 1
    writer.close()


def test_commands_run_once_import_and_status(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(site / "linewatch.yaml")
    append(site / "cdr" / "Master.csv", asterisk_row("u1", 0, 60, 55), '"broken row\n')
    assert main(["-c", config, "voice", "run", "--once"]) == 3  # a row was quarantined
    assert "pbx: 1 new, 1 quarantined" in capsys.readouterr().out
    backfill = site / "backfill.csv"
    backfill.write_text(asterisk_row("b1", 300, 60, 50) + asterisk_row("b2", 400, 60, 50) + asterisk_row("u1", 0, 60, 55))
    assert main(["-c", config, "voice", "import", str(backfill), "--source", "pbx"]) == 0
    out = capsys.readouterr().out
    assert "3 rows, 2 calls loaded, 1 already stored, 0 quarantined" in out
    assert main(["-c", config, "voice", "status"]) == 0
    out = capsys.readouterr().out
    assert ": 3 calls," in out and "1 rows quarantined" in out and "read to row 2" in out
    assert "quarantined: " in out
    assert main(["-c", config, "voice", "import", str(backfill), "--source", "nope"]) == 2
    assert "unknown source 'nope' (known: pbx)" in capsys.readouterr().err
    assert main(["-c", config, "voice", "rebuild", "--from", str(T0), "--to", str(T0 + 3600)]) == 0
    assert "rewrote" in capsys.readouterr().out


def test_a_rotated_file_is_finished_before_the_new_one_is_read(site: Path) -> None:
    cdr = site / "cdr" / "Master.csv"
    append(cdr, asterisk_row("u1", 0, 60, 55))
    with VoiceService(load_settings(site / "linewatch.yaml")) as service:
        assert service.cycle(T0 + 60).sources[0].new == 1
        append(cdr, asterisk_row("u2", 5, 60, 55))  # written just before logrotate renames the file
        cdr.rename(site / "cdr" / "Master.csv.1")
        append(cdr, asterisk_row("u3", 70, 60, 55))
        report = service.cycle(T0 + 180)
        assert (report.sources[0].new, report.sources[0].duplicates) == (2, 0)
        assert service.store.count() == 3
    with VoiceService(load_settings(site / "linewatch.yaml")) as restarted:
        assert restarted.cycle(T0 + 240).sources[0].new == 0


def test_real_kamailio_cdrs_and_live_counts_through_the_service(site: Path, kamailio_pbx) -> None:
    """SIPp calls through the suite's Kamailio: the service tails its CDR file and polls its JSON-RPC."""
    import time

    from linewatch.servers.sipp import SippCall

    (site / "voice.yaml").write_text(f"""\
store_path: var/calls.sqlite
sources:
  - {{name: kamailio, format: kamailio, path: {kamailio_pbx.cdr_path}}}
trunks:
  - {{match: dtag-fra, line: FRA-VOICE-1}}
  - {{match: obs-par, line: PAR-VOICE-1}}
rate_plans:
  - {{name: plan-de, currency: EUR, rates: [{{rate: "0.10"}}]}}
live:
  - {{name: kamailio, kind: kamailio_jsonrpc, url: "{kamailio_pbx.kamailio.rpc_url}",
     trunks: {{dtag-fra: FRA-VOICE-1, obs-par: PAR-VOICE-1}}}}
""")
    with VoiceService(load_settings(site / "linewatch.yaml")) as service:
        service.cycle()  # what earlier tests left in the shared CDR file
        mark = time.time()
        calls = [SippCall("3141", f"+4969557{n:03d}", 2.5) for n in range(3)] + [SippCall("3142", "+4969557486")]
        calls += [SippCall(f"41{n:02d}", f"+3318002{n:03d}", 3.0) for n in range(6)]  # 4 channels: 2 blocked
        run = kamailio_pbx.caller(calls, rate_per_s=40).start()
        time.sleep(1.0)
        during = service.cycle()
        run.wait(timeout_s=20)
        deadline = time.monotonic() + 5
        new = during.sources[0].new  # the busy and blocked calls ended at once: their CDRs came first
        while time.monotonic() < deadline and new < len(calls):
            time.sleep(0.3)
            new += service.cycle().sources[0].new
        assert new == len(calls)
        [live] = during.live
        assert live.ok and live.per_line == {"FRA-VOICE-1": 3, "PAR-VOICE-1": 4} and live.active == 7  # 486 is over
        mine = service.store.calls(start_s=mark - 1, end_s=time.time() + 1)
        counts = mine.groupby(["line", "outcome"]).size().to_dict()
        assert counts == {("FRA-VOICE-1", "answered"): 3, ("FRA-VOICE-1", "blocked"): 1,  # 486 from the carrier
                          ("PAR-VOICE-1", "answered"): 4, ("PAR-VOICE-1", "blocked"): 2}
    with client_of(site) as client:
        [series] = client.query(f"SELECT max(busy_max), sum(answered) FROM voice_trunk WHERE line = 'PAR-VOICE-1' "
                                f"AND time >= {int(mark) // 60 * 60}s")
        assert series["values"][0][1] == 4  # never more calls up than the trunk's channels
        [live] = client.query("SELECT max(active) FROM voice_live WHERE line = 'PAR-VOICE-1'")
        assert live["values"][0][1] == 4


def test_run_cycles_until_stopped(site: Path) -> None:
    import threading

    append(site / "cdr" / "Master.csv", asterisk_row("u1", 0, 60, 55))
    stop = threading.Event()
    reports = []

    def on_cycle(report) -> None:
        reports.append(report)
        if len(reports) == 2:
            stop.set()

    with VoiceService(load_settings(site / "linewatch.yaml")) as service:  # collector.interval_s: 1
        thread = threading.Thread(target=service.run, args=(stop,), kwargs={"on_cycle": on_cycle})
        thread.start()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert [r.new for r in reports] == [1, 0]
