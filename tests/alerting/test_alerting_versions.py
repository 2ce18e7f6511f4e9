"""Capacity versions and planned maintenance in the alert service, on a real influxd and a real SMTP server.

* The utilization rule divides each bucket's traffic by the line's capacity *at the bucket's time*: a line carrying
  90 Mbit/s is at 90 % of its 100 Mbit/s until the upgrade to 200 Mbit/s at T and at 45 % from T on, even though the
  collector (inventory refreshed late) still wrote ``in_util_pct = 90`` after T.
* A planned maintenance window of the inventory mutes the notifications of its lines while it is active (the alert
  is still tracked), and not after ``ends``.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alerting.config import load_alerts
from alerting.service import AlertService
from alerting.store import AlertStore
from linewatch.choices import OperStatus
from linewatch.influx import InfluxClient, Point
from linewatch.inventory import Inventory, PlannedMaintenance
from linewatch.settings import load_settings
from tests.alerting.conftest import T0, Clock, SmtpServer, make_inventory, traffic_point, write

T = T0  # the capacity change: 2026-11-25 12:00 UTC, on a bucket boundary
CHANGE = [{"effective": "2026-11-25T21:00:00+09:00", "capacity_bps": 200_000_000}]

ALERTS = """\
rules:
  - {{name: utilization, kind: utilization, warning_pct: 80, critical_pct: 95, clear_pct: 70, for_s: 300}}
  - {{name: line_down, kind: line_down, consecutive_polls: 3}}
route: {{receiver: noc, group_by: [rule, line], group_wait_s: 30, group_interval_s: 300, repeat_interval_s: 3600}}
receivers:
  - name: noc
    email: {{host: 127.0.0.1, port: {smtp_port}, tls: none, from: lw@example.net, to: [noc@example.net]}}
"""


def start(tmp_path: Path, inventory: Inventory, influx: InfluxClient, clock: Clock, smtp: SmtpServer) -> AlertService:
    path = tmp_path / "alerts.yaml"
    path.write_text(textwrap.dedent(ALERTS.format(smtp_port=smtp.port)), encoding="utf-8")
    config = load_alerts(path, inventory=inventory)
    return AlertService(config=config, inventory=inventory, client=influx, store=AlertStore(tmp_path / "a.sqlite"),
                        clock=clock)


@pytest.fixture
def service_factory(tmp_path: Path, influx: InfluxClient, clock: Clock,
                    smtp_factory: Callable[..., SmtpServer]) -> Iterator[Callable[[Inventory], AlertService]]:
    started: list[AlertService] = []
    smtp = smtp_factory("plain")

    def make(inventory: Inventory) -> AlertService:
        started.append(start(tmp_path, inventory, influx, clock, smtp))
        return started[-1]

    yield make
    for service in started:
        service.close()


def state(service: AlertService, key: str) -> tuple[str, float | None] | None:
    alert = service.store.alerts().get(key)
    return None if alert is None else (alert.status.state.value, alert.status.value)


MEMBERS = {
    "one-port": ({"interface": "ge-0/0/0"}, [{}]),
    "lag-of-two": ({"members": [{"device": "r1", "interface": "ge-0/0/0"}, {"device": "r1", "interface": "ge-0/0/1"}]},
                   [{"device": "r1", "interface": "ge-0/0/0"}, {"device": "r1", "interface": "ge-0/0/1"}]),
}


@pytest.mark.parametrize("form", list(MEMBERS))
def test_utilization_thresholds_switch_at_the_capacity_change(form: str, service_factory: Callable[..., AlertService],
                                                              influx: InfluxClient, clock: Clock) -> None:
    """Fires before T (90 % of 100 Mbit/s), resolves at the first bucket starting at T (45 % of 200 Mbit/s)."""
    port, member_tags = MEMBERS[form]
    line = make_inventory({"id": "FRA-1", "capacity_changes": CHANGE}).lines[0].model_dump(exclude={"members"})
    inventory = Inventory.model_validate({"devices": [d.model_dump() for d in make_inventory().devices],
                                          "lines": [line | {"device": "r1"} | port if "interface" in port
                                                    else line | port]})
    assert len(inventory.lines[0].members) == len(member_tags)
    share = 90.0 / len(member_tags)
    # What a collector with the old inventory writes: 90 Mbit/s, in_util_pct against 100 Mbit/s, before and after T.
    write(influx, [traffic_point("FRA-1", t, util=share, out_util=1.0, tags=tags, capacity_bps=100_000_000)
                   for t in range(T - 900, T + 600, 60) for tags in member_tags])
    service = service_factory(inventory)
    clock.now_s = T - 60
    service.evaluate()
    assert state(service, "utilization/FRA-1") == ("firing", pytest.approx(90.0))
    assert service.store.alerts()["utilization/FRA-1"].info["capacity_bps"] == 100_000_000
    clock.now_s = T  # the newest bucket [T-60, T) is still before the change
    service.evaluate()
    assert state(service, "utilization/FRA-1") == ("firing", pytest.approx(90.0))
    clock.now_s = T + 60  # the newest bucket [T, T+60) has the new capacity
    service.evaluate()
    assert state(service, "utilization/FRA-1") == ("resolved", pytest.approx(45.0))
    assert service.store.alerts()["utilization/FRA-1"].info["capacity_bps"] == 200_000_000


def test_a_downgrade_makes_the_same_traffic_fire_from_the_change_on(service_factory: Callable[..., AlertService],
                                                                    influx: InfluxClient, clock: Clock) -> None:
    downgrade = [{"effective": "2026-11-25T12:00:00Z", "capacity_bps": 50_000_000}]
    inventory = make_inventory({"id": "FRA-1", "capacity_bps": 100_000_000, "capacity_changes": downgrade})
    write(influx, [traffic_point("FRA-1", t, util=45.0, out_util=1.0) for t in range(T - 900, T + 600, 60)])
    service = service_factory(inventory)
    clock.now_s = T + 240  # four buckets at 90 %: not yet sustained for 300 s
    service.evaluate()
    assert state(service, "utilization/FRA-1") == ("pending", pytest.approx(90.0))
    clock.now_s = T + 300
    service.evaluate()
    assert state(service, "utilization/FRA-1") == ("firing", pytest.approx(90.0))


def down(line: str, start_s: int, end_s: int) -> list[Point]:
    return [traffic_point(line, t, util=0.0, oper=OperStatus.DOWN) for t in range(start_s, end_s, 60)]


def test_planned_maintenance_mutes_line_down_until_it_ends(service_factory: Callable[..., AlertService],
                                                           influx: InfluxClient, clock: Clock) -> None:
    window = PlannedMaintenance.model_validate({
        "id": "MW-12", "lines": ["FRA-1"], "starts": "2026-11-25T11:00:00Z", "ends": "2026-11-25T12:30:00Z",
        "carrier_reference": "DT-CHG-99812", "description": "fibre work"})
    inventory = make_inventory({"id": "FRA-1"}, {"id": "FRA-2"}).model_copy(update={"maintenance": [window]})
    write(influx, down("FRA-1", T - 600, T + 3600) + down("FRA-2", T - 600, T + 3600))
    service = service_factory(inventory)
    for t in (T, T + 30, T + 600, T + 1799):
        service.tick(t)
    assert service.store.alerts()["line_down/FRA-1"].status.state.value == "firing"  # tracked, only muted
    assert service.muted == {"line_down/FRA-1": "planned maintenance MW-12 (DT-CHG-99812)"}
    outbox = service.store.messages()
    assert [m.payload["group_labels"]["line"] for m in outbox] == ["FRA-2"]  # the other line is notified
    service.tick(T + 1800)  # ends: the window is over
    service.tick(T + 1830)  # group_wait
    assert service.muted == {}
    lines = [m.payload["group_labels"]["line"] for m in service.store.messages()]
    assert lines == ["FRA-2", "FRA-1"]
    (fra1,) = [m for m in service.store.messages() if m.payload["group_labels"]["line"] == "FRA-1"]
    assert [a["key"] for a in fra1.payload["firing"]] == ["line_down/FRA-1"]


LINES_YAML = """\
devices:
  - {name: r1, address: 127.0.0.1, snmp: {version: 2c, community: c}}
lines:
  - {id: FRA-1, carrier: Colt, circuit_id: C-1, type: mpls, site: Frankfurt, department: Operations, device: r1,
     interface: ge-0/0/1, capacity_bps: 100000000}
"""
MAINTENANCE_YAML = """\
maintenance:
  - {id: MW-7, lines: [FRA-1], starts: 2026-11-25T11:00:00Z, ends: 2026-11-25T14:00:00Z}
"""


def test_a_window_added_to_lines_yaml_mutes_from_the_next_cycle(tmp_path: Path, influx_db: tuple[str, str],
                                                                influx: InfluxClient, clock: Clock,
                                                                smtp_factory: Callable[..., SmtpServer]) -> None:
    """The service re-reads its inventory source each evaluation: no restart for a newly announced window."""
    url, db = influx_db
    smtp = smtp_factory("plain")
    lines = tmp_path / "lines.yaml"
    lines.write_text(LINES_YAML, encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(textwrap.dedent(ALERTS.format(smtp_port=smtp.port)), encoding="utf-8")
    settings = tmp_path / "linewatch.yaml"
    settings.write_text(f"influx: {{url: '{url}', database: {db}}}\nstate_dir: var\n", encoding="utf-8")
    write(influx, down("FRA-1", T - 600, T + 3600))
    service = AlertService.from_settings(load_settings(settings), client=influx, clock=clock)
    try:
        service.tick(T)
        assert service.muted == {}
        lines.write_text(LINES_YAML + MAINTENANCE_YAML, encoding="utf-8")
        os.utime(lines, ns=(T * 10**9, (T + 1) * 10**9))  # a new mtime even within the file system's resolution
        service.tick(T + 30)
        assert service.muted == {"line_down/FRA-1": "planned maintenance MW-7"}
        assert service.store.messages() == []
    finally:
        service.close()
