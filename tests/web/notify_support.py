"""Shared by the notify tests: the alerting tests' real servers (aiosmtpd with STARTTLS+AUTH, an HTTP server
standing in for Slack) and an ``alerts.yaml`` whose receivers point at them, installed as the app's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("alerting_test_fixtures", ROOT / "tests" / "alerting" / "conftest.py")
assert _spec is not None and _spec.loader is not None
alerting_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = alerting_fixtures  # dataclasses look their module up there
_spec.loader.exec_module(alerting_fixtures)

SMTP_USER = alerting_fixtures.SMTP_USER
SMTP_PASSWORD = alerting_fixtures.SMTP_PASSWORD
SLACK_SECRET = "XXXSECRETXXX"  # the secret part of the Slack sink's URL


def write_alerts_yaml(path: Path, *, smtp_port: int, ca_file: Path, slack_url: str,
                      delivery: dict[str, Any] | None = None, password: str = SMTP_PASSWORD) -> Path:
    import yaml

    data = {
        "delivery": delivery or {"backoff_initial_s": 10, "backoff_max_s": 60, "expire_s": 3600},
        "rules": [{"name": "down", "kind": "line_down"}],
        "route": {"receiver": "noc-email"},
        "receivers": [
            {"name": "noc-email", "language": "ko", "timezone": "Asia/Seoul",
             "email": {"host": "127.0.0.1", "port": smtp_port, "tls": "starttls", "ca_file": str(ca_file),
                       "username": SMTP_USER, "password": password, "from": "linewatch@example.net",
                       "to": ["noc@example.net"]}},
            {"name": "oncall-slack", "slack": {"webhook_url": slack_url}},
            {"name": "linewatch-app", "webhook": {"url": "http://127.0.0.1:9/api/faults/alerts/",
                                                  "bearer_token": "intake-token"}},
        ],
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
