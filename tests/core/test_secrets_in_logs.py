"""Secrets stay out of logs and errors: Slack webhook paths under ``-vv``, user:password in the InfluxDB URL."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from linewatch.cli import main
from linewatch.logfilter import MASK, SecretFilter, mask, register_secret

REPO = Path(__file__).resolve().parents[2]
TOKEN = "XXSECRETTOKENXX"
WEBHOOK_PATH = f"/services/T0SECRET/B0SECRET/{TOKEN}"


@dataclass
class SlackServer:
    """A real HTTP server on 127.0.0.1 standing in for Slack's incoming webhooks (as in tests/alerting)."""

    port: int = 0
    paths: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    hook = SlackServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hook.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["literal-in-file", "from-environment"])
def test_slack_webhook_path_is_not_logged_under_vv(tmp_path: Path, slack: SlackServer, source: str) -> None:
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    alerts = (config / "alerts.yaml").read_text()
    shipped = "http://127.0.0.1:18089/services/DEMO/WEBHOOK"
    assert shipped in alerts
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWATCH_")}
    if source == "from-environment":
        env["LW_TEST_SLACK_WEBHOOK"] = slack.url
        alerts = alerts.replace(shipped, "${LW_TEST_SLACK_WEBHOOK}")
    else:
        alerts = alerts.replace(shipped, slack.url)
    (config / "alerts.yaml").write_text(alerts)
    done = subprocess.run([sys.executable, "-m", "linewatch.cli", "-vv", "-c", str(config / "linewatch.yaml"),
                           "alerts", "test-notify", "oncall-slack"], check=False, capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert slack.paths == [WEBHOOK_PATH], "the notification must really have gone to the webhook"
    request_log = [row for row in done.stderr.splitlines() if "urllib3" in row and '"POST ' in row]
    assert request_log, f"urllib3's debug request line is expected under -vv:\n{done.stderr}"
    assert f'"POST {MASK} HTTP/1.1" 200' in request_log[0]
    for fragment in (TOKEN, "T0SECRET", "B0SECRET"):
        assert fragment not in done.stdout + done.stderr


@pytest.mark.parametrize("where", ["file", "environment"])
def test_influxdb_url_with_user_password_is_refused_without_echoing_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, where: str) -> None:
    url = "http://linewatch:hunter2-influx-pass@127.0.0.1:8086"
    cfg = tmp_path / "linewatch.yaml"
    if where == "file":
        cfg.write_text(f"influx:\n  database: lw\n  url: {url}\n")
    else:
        cfg.write_text("influx:\n  database: lw\n")
        monkeypatch.setenv("LINEWATCH_INFLUX__URL", url)
    assert main(["-vv", "-c", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    expected = "influx.url: must not contain a user name or password (user:password@host)"
    assert (f"{cfg}:3: {expected}" if where == "file" else f"$LINEWATCH_INFLUX__URL: {expected}") in err, err
    assert "hunter2" not in err and "linewatch:" not in err


@pytest.mark.parametrize(("logger", "message", "expected"), [
    ("urllib3.connectionpool", 'https://hooks.slack.com:443 "POST /services/T1/B2/abc HTTP/1.1" 200 2',
     f'https://hooks.slack.com:443 "POST /{MASK} HTTP/1.1" 200 2'),
    ("urllib3.connectionpool", 'http://127.0.0.1:8086 "POST /write?db=lw&precision=ns HTTP/1.1" 204 0',
     'http://127.0.0.1:8086 "POST /write?db=lw&precision=ns HTTP/1.1" 204 0'),
    ("requests.sessions", "GET https://api.telegram.org/bot123:ABC/sendMessage",
     f"GET https://api.telegram.org/{MASK}"),
    ("aiosmtplib", "connecting to smtp://mailer:pa55word@mx.example.net:587",
     f"connecting to smtp://{MASK}@mx.example.net:587"),
    ("linewatch.alerting", "POST https://example.net/hook?token=abcdef123&x=1 failed",
     f"POST https://example.net/hook?token={MASK}&x=1 failed"),
    ("linewatch.collector", "polling https://example.net/some/path", "polling https://example.net/some/path"),
], ids=["urllib3-request-line", "influx-endpoint-kept", "requests-url-path", "smtp-userinfo",
        "credential-query-anywhere", "own-logger-path-kept"])  # fmt: skip
def test_library_logs_mask_url_paths_and_credentials(logger: str, message: str, expected: str) -> None:
    record = logging.LogRecord(logger, logging.DEBUG, __file__, 1, "%s", (message,), None)
    assert SecretFilter().filter(record) is True
    assert record.getMessage() == expected


def test_registered_secret_is_masked_in_any_logger_and_in_tracebacks() -> None:
    register_secret("https://hooks.example.net/services/T9/B9/registered-secret-token")
    assert mask("sent to /services/T9/B9/registered-secret-token") == f"sent to {MASK}"
    try:
        raise RuntimeError("failed: https://hooks.example.net/services/T9/B9/registered-secret-token")
    except RuntimeError:
        record = logging.LogRecord("linewatch", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    SecretFilter().filter(record)
    assert "registered-secret-token" not in (record.exc_text or "")
    assert MASK in (record.exc_text or "")


@pytest.mark.parametrize(("text", "key"), [
    ("influx: {url: 'http://lw:hunter2-influx-pass@127.0.0.1:8086'}\n", "influx.url"),
    ("grafana: {base_url: 'https://viewer:hunter2-grafana-pass@grafana.example.net'}\n", "grafana.base_url"),
], ids=["influx-url", "grafana-link-url"])  # fmt: skip
def test_url_with_user_password_is_refused_in_every_url_setting(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                               text: str, key: str) -> None:
    """Grafana's URL goes into every notification as a link: a password there would be mailed around."""
    cfg = tmp_path / "linewatch.yaml"
    cfg.write_text(text)
    assert main(["-c", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}:1: {key}: must not contain a user name or password" in err, err
    assert "hunter2" not in err
