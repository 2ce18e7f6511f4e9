"""Exactly once across restarts: each run is a new ``linewatch_worker --once`` process on a SQLite database of its
own, reading the session dovecot's mailbox and a drop folder; the reports go out through the outbox to the test
SMTP server. The same message and the same file arriving again after a restart import nothing twice."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from intake_support import REPORT_TO, email_with, invoice_csv, write_carriers_yaml
from notify_support import alerting_fixtures, write_alerts_yaml
from web_test_setup import web_env

from billing_etl.store import InvoiceStore

ROOT = Path(__file__).resolve().parents[2]
_MANAGE = [sys.executable, "-m", "web.manage"]
IMAP_PASSWORD_ENV = "LW_TEST_INTAKE_IMAP_PASSWORD"

tls_cert = alerting_fixtures.tls_cert
smtp_factory = alerting_fixtures.smtp_factory
webhook = alerting_fixtures.webhook

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path, dovecot_server: Any, smtp_factory: Any, webhook: Any, tls_cert: Any) -> dict[str, Any]:
    """linewatch.yaml with the intake on a drop folder and a mailbox of its own (password from the environment),
    reports to REPORT_TO through alerts.yaml's SMTP receiver; a migrated SQLite database under state_dir."""
    smtp = smtp_factory("starttls")
    mailbox = f"inbox-{uuid.uuid4().hex[:10]}"
    (tmp_path / "drop").mkdir()
    write_carriers_yaml(tmp_path / "carriers.yaml")
    write_alerts_yaml(tmp_path / "alerts.yaml", smtp_port=smtp.port, ca_file=tls_cert[0], slack_url=webhook.url)
    config = {
        "state_dir": "var", "carriers_path": "carriers.yaml", "alerts_path": "alerts.yaml",
        "intake": {"folder": "drop", "report_to": [REPORT_TO], "interval_s": 5,
                   "imap": {"host": dovecot_server.host, "port": dovecot_server.imaps_port, "security": "ssl",
                            "username": dovecot_server.username, "password": f"${{{IMAP_PASSWORD_ENV}}}",
                            "mailbox": mailbox, "ca_file": str(dovecot_server.ca_file)}},
    }  # fmt: skip
    (tmp_path / "linewatch.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = web_env(LINEWATCH_CONFIG=str(tmp_path / "linewatch.yaml"), DJANGO_SETTINGS_MODULE="web.settings",
                  **{IMAP_PASSWORD_ENV: dovecot_server.password})
    migrated = _manage(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    return {"folder": tmp_path / "drop", "env": env, "db": tmp_path / "var" / "web.sqlite3", "smtp": smtp,
            "mailbox": mailbox, "server": dovecot_server, "state": tmp_path / "var"}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_MANAGE + list(args), env=env, cwd=ROOT, check=False, capture_output=True, text=True,
                          timeout=300)


def _worker(site: dict[str, Any]) -> str:
    """One worker process running every job once. Other apps' jobs may fail here (no InfluxDB): only the
    intake's and the outbox's must not."""
    run = _manage(site["env"], "linewatch_worker", "--once")
    output = run.stdout + run.stderr
    for job in ("web.intake.jobs:collect", "web.notify.jobs:deliver_outbox"):
        assert f"job {job} failed" not in output and f"failed: {job}" not in output, output[-3000:]
    return output


def _rows(site: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(site["db"]) as db:
        return db.execute(sql).fetchall()


def test_a_new_worker_process_imports_nothing_twice_and_reports_each_file_once(site):
    message = email_with(("acme-2026-11.csv", invoice_csv("ACME-5001"), "text/csv"))
    folder_file = invoice_csv("ACME-5002", bad_amount="?")
    site["server"].deliver(message, mailbox=site["mailbox"])
    (site["folder"] / "acme-2026-11-b.csv").write_bytes(folder_file)
    first_log = _worker(site)
    _worker(site)  # the outbox delivery of the reports queued by the first run (job order aside)
    assert sorted(_rows(site, "SELECT filename, source, outcome FROM intake_intakefile")) == [
        ("acme-2026-11-b.csv", "folder", "quarantined"), ("acme-2026-11.csv", "imap", "imported")]

    # The carrier sends the same message again and someone drops the same file again; a new worker starts.
    site["server"].deliver(message, mailbox=site["mailbox"])
    (site["folder"] / "acme-2026-11-b.csv").write_bytes(folder_file)
    _worker(site)
    _worker(site)
    assert sorted(_rows(site, "SELECT filename, source, outcome FROM intake_intakefile")) == [
        ("acme-2026-11-b.csv", "folder", "duplicate"), ("acme-2026-11-b.csv", "folder", "quarantined"),
        ("acme-2026-11.csv", "imap", "imported")]
    assert _rows(site, "SELECT seen_again FROM intake_intakemessage") == [(1,)]
    with InvoiceStore(site["state"] / "billing.sqlite") as store:
        assert sorted(inv.invoice_number for inv in store.invoices()) == ["ACME-5001", "ACME-5002"]

    # Each file's report exactly once, delivered by SMTP; the mailbox's password nowhere.
    keys = [k for (k,) in _rows(site, "SELECT key FROM notify_outboxmessage WHERE key LIKE 'intake-report-%'")]
    assert len(keys) == 3 and len(set(keys)) == 3
    assert _rows(site, "SELECT DISTINCT status FROM notify_outboxmessage WHERE key LIKE 'intake-report-%'") == [
        ("delivered",)]
    subjects = sorted(m["Subject"] for m in site["smtp"].messages)
    assert len(subjects) == 3 and all(m["To"] == REPORT_TO for m in site["smtp"].messages)
    assert any("Duplicate" in s for s in subjects)
    password = site["server"].password
    assert password not in first_log and all(password not in raw.decode(errors="replace")
                                             for raw in site["smtp"].raw)
