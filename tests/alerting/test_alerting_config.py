"""alerts.yaml: the shipped file is valid, bad files fail with file:line: key: reason, secrets stay secret."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from alerting.config import MaintenanceWindow, UtilizationRule, check_config, load_alerts
from linewatch.errors import ConfigError
from linewatch.settings import load_settings
from tests.alerting.conftest import make_inventory

REPO = Path(__file__).resolve().parents[2]

VALID = """\
rules:
  - name: utilization
    kind: utilization
    warning_pct: 80
    clear_pct: 70
route:
  receiver: noc
receivers:
  - name: noc
    email:
      host: smtp.example.net
      username: alerts
      password: ${TEST_SMTP_PASSWORD}
      from: linewatch@example.net
      to: [noc@example.net]
  - name: chat
    slack:
      webhook_url: ${TEST_SLACK_URL}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "hunter2-smtp")
    monkeypatch.setenv("TEST_SLACK_URL", "https://hooks.slack.example/services/T/B/very-secret-token")


def test_shipped_alerts_yaml_is_valid() -> None:
    settings = load_settings(REPO / "config" / "linewatch.yaml")
    assert check_config(settings) == []


def test_secrets_come_from_the_environment_and_never_print(tmp_path: Path, secrets_env: None) -> None:
    config = load_alerts(_write(tmp_path, VALID))
    noc, chat = config.receivers
    assert noc.email is not None and noc.email.password is not None
    assert noc.email.password.get_secret_value() == "hunter2-smtp"
    assert chat.slack is not None and "very-secret-token" in chat.slack.webhook_url.get_secret_value()
    dumped = repr(config) + str(config.model_dump()) + config.model_dump_json()
    assert "hunter2" not in dumped and "very-secret-token" not in dumped


@pytest.mark.parametrize(
    ("edit", "line", "key", "reason"),
    [
        (("warning_pct: 80", "warning_pct: 80\n    colour: red"), 5, "rules[0].colour", "unknown key"),
        (("clear_pct: 70", "clear_pct: 85"), 2, "rules[0]", "clear_pct (85.0) must be below warning_pct (80.0)"),
        (("kind: utilization", "kind: latency"), 2, "rules[0].kind",
         ("unknown kind 'latency' (one of utilization, error_rate, line_down, member_down, device_unreachable, "
          "no_data, channel_utilization, blocked_calls, premium_destination, after_hours_international, cost_spike, "
          "forecast_crossing, anomaly)")),
        (("    kind: utilization\n", ""), 2, "rules[0].kind", "missing (one of utilization, error_rate,"),
        (("receiver: noc", "receiver: nobody"), 7, "route.receiver", "unknown receiver 'nobody'"),
        (("route:\n", "route:\n  matchers: ['colour=red']\n"), 7, "route.matchers", "unknown label 'colour'"),
        (("${TEST_SMTP_PASSWORD}", "${NOT_SET_ANYWHERE}"), 13, "receivers[0].email.password",
         "environment variable NOT_SET_ANYWHERE is not set"),
        (("to: [noc@example.net]", "to: []"), 15, "receivers[0].email.to", "at least 1 item"),
        (("name: chat", "name: noc"), 16, "receivers[1].name", "duplicate name 'noc'"),
        (("route:\n", ("maintenance_windows:\n  - {name: w, matchers: ['site=\"Paris\"'], start_time: 25:00,"
                        " end_time: 4:00}\nroute:\n")), 7, "maintenance_windows[0].start_time", "25:00 is not a time"),
    ],
    ids=["unknown-key", "clear-above-warning", "unknown-rule-kind", "missing-rule-kind", "unknown-receiver",
         "bad-matcher", "missing-env-secret", "no-recipients", "duplicate-receiver", "window-hour-out-of-range"],
)
def test_bad_rule_files_give_clear_errors(tmp_path: Path, secrets_env: None, edit: tuple[str, str], line: int,
                                          key: str, reason: str) -> None:
    path = _write(tmp_path, VALID.replace(*edit, 1))
    with pytest.raises(ConfigError) as info:
        load_alerts(path)
    problems = [p for p in info.value.problems if p.key == key]
    assert problems, info.value.problems
    assert reason in problems[0].reason
    assert problems[0].line == line
    assert problems[0].file == str(path)


@pytest.mark.parametrize(
    ("override", "key", "reason"),
    [
        ("{rule: nope, line: L1, set: {warning_pct: 90}}", "overrides[0].rule", "unknown rule 'nope'"),
        ("{rule: utilization, line: NOPE-1, set: {warning_pct: 90}}", "overrides[0].line", "unknown line 'NOPE-1'"),
        ("{rule: utilization, department: Nope, set: {for_s: 60}}", "overrides[0].department", "unknown department"),
        ("{rule: utilization, line: L1, set: {colour: red}}", "overrides[0].set.colour", "cannot be overridden"),
        ("{rule: utilization, line: L1, set: {warning_pct: 60}}", "overrides[0].set",
         "clear_pct (70.0) must be below warning_pct (60.0)"),
        ("{rule: utilization, set: {for_s: 60}}", "overrides[0]", "exactly one of line or department"),
    ],
    ids=["unknown-rule", "unknown-line", "unknown-department", "unknown-setting", "invalid-result", "no-target"],
)
def test_bad_overrides_give_clear_errors(tmp_path: Path, secrets_env: None, override: str, key: str,
                                         reason: str) -> None:
    path = _write(tmp_path, VALID + f"overrides:\n  - {override}\n")
    inventory = make_inventory({"id": "L1"})
    with pytest.raises(ConfigError) as info:
        load_alerts(path, inventory=inventory)
    problems = [p for p in info.value.problems if p.key == key]
    assert problems, info.value.problems
    assert reason in problems[0].reason
    assert problems[0].line == 20


def test_overrides_apply_department_then_line(tmp_path: Path, secrets_env: None) -> None:
    text = VALID + ("overrides:\n  - {rule: utilization, line: L1, set: {warning_pct: 90, clear_pct: 85}}\n"
                    "  - {rule: utilization, department: Operations, set: {warning_pct: 85, for_s: 60}}\n")
    config = load_alerts(_write(tmp_path, text), inventory=make_inventory({"id": "L1"}, {"id": "L2"}))
    rule = config.rules[0]
    l1 = config.effective_rule(rule, line="L1", department="Operations")
    l2 = config.effective_rule(rule, line="L2", department="Operations")
    other = config.effective_rule(rule, line="L3", department="Sales")
    assert isinstance(l1, UtilizationRule)
    assert (l1.warning_pct, l1.for_s) == (90, 60)
    assert (l2.warning_pct, l2.for_s) == (85, 60)
    assert other is rule


def _ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


@pytest.mark.parametrize(
    ("window", "at", "active"),
    [
        ({"weekdays": ["sunday"], "start_time": "02:00", "end_time": "04:00"}, "2026-11-29T02:30:00+00:00", True),
        ({"weekdays": ["sunday"], "start_time": "02:00", "end_time": "04:00"}, "2026-11-29T04:00:00+00:00", False),
        ({"weekdays": ["sunday"], "start_time": "02:00", "end_time": "04:00"}, "2026-11-28T02:30:00+00:00", False),
        ({"start_time": "22:00", "end_time": "02:00"}, "2026-11-25T23:30:00+00:00", True),
        ({"weekdays": ["saturday"], "start_time": "22:00", "end_time": "02:00"}, "2026-11-29T01:00:00+00:00", True),
        ({"start_time": "02:00", "end_time": "04:00", "timezone": "Europe/Berlin"}, "2026-11-25T01:30:00+00:00", True),
    ],
    ids=["inside", "end-is-exclusive", "wrong-weekday", "crosses-midnight", "after-midnight-belongs-to-start-day",
         "local-time-zone"],
)
def test_maintenance_window_recurs(window: dict[str, object], at: str, active: bool) -> None:
    mw = MaintenanceWindow.model_validate({"name": "w", "matchers": ['site="Paris"'], **window})
    assert mw.active_at(_ts(at)) is active
