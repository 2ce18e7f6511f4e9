"""``linewatch alerts …`` and ``check-config`` on alerts.yaml, through the real CLI entry point."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from linewatch.cli import main
from linewatch.influx import InfluxClient
from linewatch.servers.ports import free_tcp_port
from tests.alerting.conftest import SmtpServer, series, write

LINES_YAML = """\
devices:
  - {name: r1, address: 127.0.0.1, snmp: {version: 2c, community: c}}
lines:
  - {id: L1, carrier: Colt, circuit_id: C-1, type: mpls, site: Frankfurt, department: Operations, device: r1,
     interface: ge-0/0/1, capacity_bps: 100000000}
  - {id: L2, carrier: Colt, circuit_id: C-2, type: mpls, site: Frankfurt, department: Operations, device: r1,
     interface: ge-0/0/2, capacity_bps: 100000000}
"""

ALERTS_YAML = """\
rules:
  - {{name: utilization, kind: utilization, for_s: 300}}
  - {{name: line_down, kind: line_down}}
route: {{receiver: noc}}
receivers:
  - name: noc
    email: {{host: 127.0.0.1, port: {smtp_port}, tls: none, from: lw@example.net, to: [noc@example.net]}}
"""


@pytest.fixture
def config(tmp_path: Path, influx_db: tuple[str, str]) -> tuple[Path, int]:
    url, db = influx_db
    smtp_port = free_tcp_port()
    (tmp_path / "lines.yaml").write_text(LINES_YAML, encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(ALERTS_YAML.format(smtp_port=smtp_port), encoding="utf-8")
    settings = tmp_path / "linewatch.yaml"
    settings.write_text(f"influx: {{url: '{url}', database: {db}}}\nstate_dir: var\n", encoding="utf-8")
    return settings, smtp_port


def test_evaluate_once_prints_every_rule_and_line(config: tuple[Path, int], influx: InfluxClient,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = config
    now = int(time.time())
    write(influx, series("L1", now - 600, [90.0] * 10) + series("L2", now - 600, [10.0] * 10))
    assert main(["-c", str(settings), "alerts", "evaluate", "--once", "--no-notify"]) == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[:3]) for line in out.splitlines()[2:]}
    assert rows == {("utilization", "L1", "firing"), ("utilization", "L2", "ok"), ("line_down", "L1", "ok"),
                    ("line_down", "L2", "ok")}
    assert main(["-c", str(settings), "alerts", "list"]) == 0
    listed = capsys.readouterr().out
    assert "utilization" in listed and "L1" in listed and "firing" in listed
    assert main(["-c", str(settings), "alerts", "ack", "1", "--by", "alice"]) == 0
    assert "acknowledged" in capsys.readouterr().out
    assert main(["-c", str(settings), "alerts", "list"]) == 0
    assert "by alice" in capsys.readouterr().out


def test_silence_add_list_expire(config: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = config
    base = ["-c", str(settings), "alerts", "silence"]
    assert main([*base, "add", "--match", 'line="L1"', "--duration", "2h", "--reason", "carrier works",
                 "--by", "bob"]) == 0
    assert "silence 1 until" in capsys.readouterr().out
    assert main([*base, "list"]) == 0
    assert 'line="L1" — carrier works' in capsys.readouterr().out
    assert main([*base, "expire", "1"]) == 0
    assert main([*base, "list"]) == 0
    assert "carrier works" not in capsys.readouterr().out
    assert main([*base, "add", "--match", "colour=red", "--duration", "1h", "--reason", "x"]) == 2
    assert "unknown label 'colour'" in capsys.readouterr().err


@pytest.mark.parametrize("duration", ["2 hours", "h", "-1h"], ids=["words", "no-number", "negative"])
def test_silence_rejects_bad_durations(config: tuple[Path, int], duration: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = config
    with pytest.raises(SystemExit):
        main(["-c", str(settings), "alerts", "silence", "add", "--match", 'line="L1"', f"--duration={duration}",
              "--reason", "x"])
    assert "invalid duration" in capsys.readouterr().err


def test_test_notify_sends_to_the_receiver(config: tuple[Path, int], smtp_factory: Callable[..., SmtpServer],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    settings, smtp_port = config
    server = smtp_factory("plain", port=smtp_port)
    assert main(["-c", str(settings), "alerts", "test-notify", "noc"]) == 0
    assert len(server.messages) == 1 and "TEST-LINE-1" in server.messages[0]["Subject"]
    assert main(["-c", str(settings), "alerts", "test-notify", "nobody"]) == 2
    assert "no receiver named 'nobody'" in capsys.readouterr().err


def test_test_notify_reports_a_dead_server(config: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = config
    assert main(["-c", str(settings), "alerts", "test-notify", "noc"]) == 1
    assert "receiver noc: smtp 127.0.0.1" in capsys.readouterr().err


def test_check_config_names_file_line_and_key(config: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = config
    alerts = settings.parent / "alerts.yaml"
    alerts.write_text(alerts.read_text().replace("for_s: 300", "for_s: -5"), encoding="utf-8")
    assert main(["-c", str(settings), "check-config"]) == 2
    assert f"{alerts}:2: rules[0].for_s: Input should be greater than or equal to 0" in \
        capsys.readouterr().err
