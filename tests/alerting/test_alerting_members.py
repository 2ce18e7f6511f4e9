"""Alerts on lines carried by several interfaces (issue 10): a LAG, a primary/backup pair.

The collector writes one ``line_traffic`` point per member per poll (tags ``device``, ``interface``,
``member_role``; utilization relative to the LINE's capacity, docs/schema.md). Rules judge the line on the sum of
its members per sample; ``line_down`` needs every member down; ``member_down`` warns while only some are. The
stories run on the real influxd with the points written by the real writer (linewatch.influx.PointWriter) and an
injected clock; the member-combination logic has table tests of its own (pure).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.logic import judge_all_members_down, judge_some_members_down
from linewatch.choices import LineMemberRole, OperStatus, Severity
from linewatch.influx import InfluxSettings, Point, PointWriter, SpoolSettings
from linewatch.inventory import Inventory
from tests.alerting import test_alerting_service as stories
from tests.alerting.conftest import T0, SmtpServer, make_inventory, traffic_point
from tests.alerting.test_alerting_service import Harness, states

harness = stories.harness  # the service stories' fixtures: same config, inventory, SMTP server and webhook
mailbox = stories.mailbox

MEMBER_DOWN_RULE = "  - {name: member_down, kind: member_down, consecutive_polls: 3}\n"
M1 = {"device": "r1", "interface": "ae0-member-1", "member_role": LineMemberRole.MEMBER.value}
M2 = {"device": "r1", "interface": "ae0-member-2", "member_role": LineMemberRole.MEMBER.value}
PRIMARY = {"device": "r1", "interface": "ge-0/0/5", "member_role": LineMemberRole.PRIMARY.value}
BACKUP = {"device": "r2", "interface": "ge-0/0/6", "member_role": LineMemberRole.BACKUP.value}


def member_series(line: str, tags: dict[str, str], utils: list[float], *, oper: list[int] | None = None,
                  end: int = T0) -> list[Point]:
    """One point per minute up to ``end`` for one member of ``line``."""
    start = end - len(utils) * 60
    opers = oper or [OperStatus.UP] * len(utils)
    return [traffic_point(line, start + 60 * i, util=u, out_util=1.0, oper=o, tags=tags)
            for i, (u, o) in enumerate(zip(utils, opers, strict=True))]


def write_real(h: Harness, points: list[Point], tmp_path: Path) -> None:
    """Through the collector's writer (batches, retry, spool), not a bare HTTP post."""
    settings = InfluxSettings(url=h.influx.settings.url, database=h.influx.settings.database,
                              spool=SpoolSettings(path=tmp_path / "spool"))
    with PointWriter.from_settings(settings) as writer:
        writer.write(points)
        assert writer.stats().spooled_batches == 0


def with_members(**members: list[dict[str, str]]) -> Inventory:
    """The stories' inventory (tests/alerting/test_alerting_service.py) with some lines carried by ``members``."""
    inventory = make_inventory(*stories.LINES)
    data = inventory.model_dump(mode="json")
    for line in data["lines"]:
        if line["id"] in members:
            line["members"] = [{"device": m["device"], "interface": m["interface"], "role": m["member_role"]}
                               for m in members[line["id"]]]
    return Inventory.model_validate(data)


DOWN3 = [OperStatus.UP] * 7 + [OperStatus.DOWN] * 3  # the newest 3 of 10 polls down


def test_lag_utilization_alert_fires_on_member_sum_not_member_mean(harness: Harness, mailbox: SmtpServer,
                                                                   tmp_path: Path) -> None:
    """Each member alone at 45 % of the line's capacity: the line is at 90 %, above the 80 % warning (the mean
    over the members, 45 %, stayed quiet). FRA-2's members at 30 % each: 60 %, quiet."""
    harness.inventory = with_members(**{"FRA-1": [M1, M2], "FRA-2": [M1, M2]})
    service = harness.start()
    write_real(harness, member_series("FRA-1", M1, [45.0] * 10) + member_series("FRA-1", M2, [45.0] * 10)
               + member_series("FRA-2", M1, [30.0] * 10) + member_series("FRA-2", M2, [30.0] * 10)
               + member_series("LON-1", {"device": "r2", "interface": "ge-0/0/2"}, [85.0] * 10), tmp_path)
    harness.tick()
    # LON-1, a single-member line, is judged by the plain statement next to the LAGs' member-sum statement
    assert states(service) == {"utilization/FRA-1": ("firing", "warning"), "utilization/LON-1": ("firing", "warning")}
    assert service.store.alerts()["utilization/FRA-1"].status.value == pytest.approx(90.0)


def test_line_down_only_when_every_member_is_down_member_down_warns_otherwise(harness: Harness, mailbox: SmtpServer,
                                                                             tmp_path: Path) -> None:
    """FRA-1: the primary is down, the backup carries the traffic → a member_down warning, no line_down.
    FRA-2: both LAG members down → line_down (critical), and no member_down on top of it."""
    harness.more_rules = MEMBER_DOWN_RULE
    harness.inventory = with_members(**{"FRA-1": [PRIMARY, BACKUP], "FRA-2": [M1, M2]})
    service = harness.start()
    write_real(harness,
               member_series("FRA-1", PRIMARY, [0.0] * 10, oper=DOWN3)
               + member_series("FRA-1", BACKUP, [0.0] * 7 + [30.0] * 3)
               + member_series("FRA-2", M1, [0.0] * 10, oper=DOWN3)
               + member_series("FRA-2", M2, [0.0] * 10, oper=DOWN3)
               + member_series("LON-1", M1, [10.0] * 10), tmp_path)
    harness.tick()
    assert states(service) == {"member_down/FRA-1": ("firing", "warning"), "line_down/FRA-2": ("firing", "critical")}
    assert service.store.alerts()["member_down/FRA-1"].status.value == 1
    harness.tick(30)
    subjects = [m["Subject"] for m in mailbox.messages]
    assert any("[WARNING] member_down: FRA-1 has a member interface down" in s for s in subjects), subjects
    assert not any("회선" in s for s in subjects), subjects  # an English receiver reads English only (H9)


def test_member_back_up_resolves_member_down(harness: Harness, mailbox: SmtpServer, tmp_path: Path) -> None:
    harness.more_rules = MEMBER_DOWN_RULE
    harness.inventory = with_members(**{"FRA-1": [M1, M2]})
    service = harness.start()
    write_real(harness, member_series("FRA-1", M1, [20.0] * 10, oper=DOWN3)
               + member_series("FRA-1", M2, [20.0] * 10), tmp_path)
    harness.tick()
    assert states(service) == {"member_down/FRA-1": ("firing", "warning")}
    harness.clock.advance(60)
    write_real(harness, member_series("FRA-1", M1, [20.0], end=T0 + 60)
               + member_series("FRA-1", M2, [20.0], end=T0 + 60), tmp_path)
    harness.tick()
    assert states(service) == {"member_down/FRA-1": ("resolved", "warning")}


UP, DOWN = False, True


def polls(*bad: bool, newest_s: int = 1000) -> list[tuple[int, bool]]:
    """Samples newest first, one a minute."""
    return [(newest_s - 60 * i, b) for i, b in enumerate(bad)]


@pytest.mark.parametrize(
    ("members", "severity", "pending", "since"),
    [
        pytest.param([polls(DOWN, DOWN, DOWN)], Severity.CRITICAL, False, 880, id="one-member-as-before"),
        pytest.param([polls(DOWN, DOWN, DOWN), polls(UP, UP, UP)], None, False, None, id="one-of-two-down-is-up"),
        pytest.param([polls(DOWN, DOWN, DOWN), polls(DOWN, DOWN, DOWN, DOWN)], Severity.CRITICAL, False, 880,
                     id="both-down"),
        pytest.param([polls(DOWN, DOWN, DOWN, DOWN), polls(DOWN, DOWN, DOWN, UP)], Severity.CRITICAL, False, 880,
                     id="since-the-last-member-went-down"),
        pytest.param([polls(DOWN, DOWN, DOWN), polls(DOWN, UP, UP)], None, True, 1000, id="second-member-pending"),
        pytest.param([polls(DOWN, DOWN, DOWN), []], Severity.CRITICAL, False, 880, id="member-without-samples"),
        pytest.param([[], []], None, False, None, id="no-samples-hold"),
    ],
)
def test_line_down_needs_every_member_down(members: list, severity: Severity | None, pending: bool,
                                           since: int | None) -> None:
    v = judge_all_members_down(members, polls=3, severity=Severity.CRITICAL)
    assert v.severity is severity
    assert (v.pending_since_s is not None) is pending
    assert (v.since_s if severity else v.pending_since_s) == since


@pytest.mark.parametrize(
    ("members", "fires", "value"),
    [
        pytest.param([polls(DOWN, DOWN, DOWN)], False, 1, id="single-member-line-never"),
        pytest.param([polls(DOWN, DOWN, DOWN), polls(UP, UP, UP)], True, 1, id="one-of-two-down"),
        pytest.param([polls(DOWN, DOWN, DOWN), polls(DOWN, DOWN, DOWN)], False, 2, id="all-down-is-line-down"),
        pytest.param([polls(DOWN, DOWN, DOWN), polls(DOWN, UP, UP)], True, 1, id="other-member-going-down-too"),
        pytest.param([polls(DOWN, DOWN, UP), polls(UP, UP, UP)], False, 0, id="not-yet-three-polls"),
        pytest.param([polls(DOWN, DOWN, DOWN), polls(UP, UP), polls(DOWN, DOWN, DOWN)], True, 2,
                     id="two-of-three-down"),
    ],
)
def test_member_down_while_another_member_is_not(members: list, fires: bool, value: int) -> None:
    v = judge_some_members_down(members, polls=3, severity=Severity.WARNING)
    assert (v.severity is Severity.WARNING) is fires
    assert v.value == value
