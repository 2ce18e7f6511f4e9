"""The durable store and InfluxDB outages: WAL file, events kept until written, states kept when queries fail."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerting.config import load_alerts
from alerting.logic import AlertStatus
from alerting.service import AlertService
from alerting.store import AlertStore, StoredAlert
from linewatch.choices import AlertState, Severity
from linewatch.errors import AlertStoreError
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.servers import InfluxdServer
from tests.alerting.conftest import T0, Clock, make_inventory, series, write

ALERTS = """\
rules:
  - {name: utilization, kind: utilization, for_s: 300}
route: {receiver: noc}
receivers:
  - name: noc
    email: {host: 127.0.0.1, port: 9, tls: none, from: lw@example.net, to: [noc@example.net]}
"""


def test_store_is_one_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    with AlertStore(tmp_path / "a.sqlite") as store:
        store.add_silence(matchers=['line="X"'], starts_s=0, ends_s=10, reason="r", created_by="me", now_s=0)
    db = sqlite3.connect(tmp_path / "a.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    with AlertStore(tmp_path / "a.sqlite") as again:
        assert [s.reason for s in again.silences()] == ["r"]


def test_second_evaluator_on_the_same_state_is_refused(tmp_path: Path) -> None:
    with AlertStore(tmp_path / "a.sqlite", exclusive=True):
        with pytest.raises(AlertStoreError, match=f"another alert evaluator \\(pid {os.getpid()}\\)"):
            AlertStore(tmp_path / "a.sqlite", exclusive=True)
        with AlertStore(tmp_path / "a.sqlite") as cli_view:  # silence/ack/list still work
            assert cli_view.alerts() == {}
    AlertStore(tmp_path / "a.sqlite", exclusive=True).close()  # released on close


@pytest.mark.parametrize(
    ("state", "severity", "acked"),
    [(AlertState.FIRING, Severity.WARNING, True), (AlertState.FIRING, Severity.CRITICAL, False),
     (AlertState.RESOLVED, Severity.WARNING, False)],
    ids=["value-update-keeps-the-ack", "severity-change-clears-the-ack", "resolution-clears-the-ack"],
)
def test_acknowledgement_lasts_until_the_alert_changes_state(tmp_path: Path, state: AlertState, severity: Severity,
                                                             acked: bool) -> None:
    with AlertStore(tmp_path / "a.sqlite") as store:
        firing = StoredAlert("u/L1", "u", "L1", AlertStatus(AlertState.FIRING, Severity.WARNING, T0, 85.0, T0), {})
        store.apply_evaluation(changed=[firing], values=[], events=[])
        alert_id = store.alerts()["u/L1"].id
        assert alert_id is not None
        store.acknowledge(alert_id, by="alice", comment="upgrade ordered", now_s=T0 + 60)
        if (state, severity) == (AlertState.FIRING, Severity.WARNING):
            store.apply_evaluation(changed=[], values=[("u/L1", 90.0)], events=[])
        else:
            changed = StoredAlert("u/L1", "u", "L1", AlertStatus(state, severity, T0, 97.0, T0 + 120), {})
            store.apply_evaluation(changed=[changed], values=[], events=[])
        assert (store.alerts()["u/L1"].acked_s is not None) is acked


def test_store_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    AlertStore(tmp_path / "a.sqlite").close()
    db = sqlite3.connect(tmp_path / "a.sqlite")
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(AlertStoreError, match="schema version 99"):
        AlertStore(tmp_path / "a.sqlite")


@pytest.fixture
def outage_service(tmp_path: Path, influxd_private: InfluxdServer) -> Iterator[AlertService]:
    client = InfluxClient(InfluxSettings(url=influxd_private.url, database="lw", timeout_s=2))
    client.ensure_database()
    (tmp_path / "alerts.yaml").write_text(ALERTS, encoding="utf-8")
    inventory = make_inventory({"id": "L1"})
    service = AlertService(config=load_alerts(tmp_path / "alerts.yaml", inventory=inventory), inventory=inventory,
                           client=client, store=AlertStore(tmp_path / "alerts.sqlite"), clock=Clock())
    yield service
    service.close()
    client.close()


def test_influx_outage_keeps_states_and_events_until_written(outage_service: AlertService,
                                                             influxd_private: InfluxdServer) -> None:
    service = outage_service
    write(service.client, series("L1", T0 - 600, [90.0] * 10))
    influxd_private.stop()
    report = service.evaluate(T0)
    assert set(report.rule_errors) == {"utilization"}  # a failed query changes nothing
    assert service.store.alerts() == {}
    influxd_private.start()
    service.evaluate(T0)
    write(service.client, series("L1", T0, [10.0]))
    influxd_private.stop()
    service.store.apply_evaluation(changed=[], values=[], events=[
        'alert_events,line=L1,rule=manual,severity=info state="resolved",firing=0i 1795608000000000000'])
    assert service.write_events() == 0  # kept for later
    report = service.evaluate(T0 + 60)
    assert service.store.alerts()["utilization/L1"].status.state is AlertState.FIRING  # never resolved blind
    influxd_private.start()
    assert service.write_events() == 1
    rows = service.client.query('SELECT "state" FROM "alert_events"')[0]["values"]
    assert [r[1] for r in rows] == ["firing", "resolved"]
