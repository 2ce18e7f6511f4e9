"""Routing tree, matchers and notification grouping (pure)."""

from __future__ import annotations

import pytest

from alerting.config import Route
from alerting.matchers import parse_matcher
from alerting.routing import GroupMember, GroupState, RouteNode, compile_route, match_routes, plan_group

TREE = Route.model_validate({
    "receiver": "noc",
    "group_by": ["rule", "department"],
    "group_wait_s": 30, "group_interval_s": 300, "repeat_interval_s": 3600,
    "routes": [
        {"matchers": ['department="Operations"'], "receiver": "ops", "continue": True},
        {"matchers": ['severity="critical"'], "receiver": "oncall", "group_by": ["rule"]},
        {"matchers": ['site=~"Lon.*"', 'carrier!="Colt"'], "receiver": "london"},
    ],
})


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ({"department": "Operations", "severity": "warning"}, ["ops"]),
        ({"department": "Operations", "severity": "critical"}, ["ops", "oncall"]),
        ({"department": "Finance", "severity": "critical"}, ["oncall"]),
        ({"department": "Finance", "severity": "warning"}, ["noc"]),
        ({"department": "Finance", "severity": "warning", "site": "London", "carrier": "BT"}, ["london"]),
        ({"department": "Finance", "severity": "warning", "site": "London", "carrier": "Colt"}, ["noc"]),
    ],
    ids=["department-routes-to-its-team", "continue-fans-out", "critical-pages-oncall", "default-is-the-root",
         "regex-and-negative-match", "negative-matcher-excludes"],
)
def test_routing_by_labels(labels: dict[str, str], receivers: list[str]) -> None:
    root = compile_route(TREE)
    assert [n.receiver for n in match_routes(root, labels)] == receivers


def test_children_inherit_timings_and_override_group_by() -> None:
    root = compile_route(TREE)
    oncall = root.children[1]
    assert oncall.group_by == ("rule",)
    assert (oncall.group_wait_s, oncall.group_interval_s, oncall.repeat_interval_s) == (30, 300, 3600)
    assert root.children[0].group_by == ("rule", "department")


@pytest.mark.parametrize(
    ("text", "error"),
    [("department", "is not label=value"), ('colour="red"', "unknown label"), ('site=~"("', "invalid regular")],
    ids=["no-operator", "unknown-label", "bad-regex"],
)
def test_bad_matchers_are_rejected(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_matcher(text)


NODE = RouteNode("0", (), "noc", False, ("rule",), group_wait_s=30, group_interval_s=300, repeat_interval_s=3600,
                 children=())
A = GroupMember("u/A", True, "warning")
B = GroupMember("u/B", True, "warning")
A_CRIT = GroupMember("u/A", True, "critical")
A_RESOLVED = GroupMember("u/A", False, "warning")
A_ACKED = GroupMember("u/A", True, "warning", acked=True)
SENT_A = GroupState(first_seen_s=0, last_sent_s=100, notified={"u/A": "firing:warning"})


@pytest.mark.parametrize(
    ("members", "state", "now", "send_resolved", "send", "firing", "resolved"),
    [
        ([A], GroupState(), 0, True, False, (), ()),
        ([A], GroupState(first_seen_s=0, notified={}), 30, True, True, ("u/A",), ()),
        ([A, B], SENT_A, 200, True, False, (), ()),
        ([A, B], SENT_A, 400, True, True, ("u/A", "u/B"), ()),
        ([A], SENT_A, 400, True, False, (), ()),
        ([A], SENT_A, 3700, True, True, ("u/A",), ()),
        ([A_ACKED], SENT_A, 3700, True, False, (), ()),
        ([A_CRIT], SENT_A, 400, True, True, ("u/A",), ()),
        ([A_RESOLVED], SENT_A, 400, True, True, (), ("u/A",)),
        ([A_RESOLVED], SENT_A, 400, False, False, (), ()),
        ([], SENT_A, 400, True, False, (), ()),
    ],
    ids=["waits-group-wait", "sends-after-group-wait", "new-alert-waits-group-interval",
         "new-alert-sent-after-group-interval", "unchanged-is-not-resent", "repeat-interval-resends",
         "acked-alert-is-not-repeated", "severity-change-is-sent", "resolved-is-sent",
         "resolved-not-sent-without-send-resolved", "silenced-alert-leaves-quietly"],
)
def test_group_notification_plan(members: list[GroupMember], state: GroupState, now: float, send_resolved: bool,
                                 send: bool, firing: tuple[str, ...], resolved: tuple[str, ...]) -> None:
    decision = plan_group(members, state, node=NODE, send_resolved=send_resolved, now_s=now)
    assert decision.send is send
    assert decision.firing == firing
    assert decision.resolved == resolved


def test_a_sent_group_remembers_what_it_said() -> None:
    decision = plan_group([A, B], SENT_A, node=NODE, send_resolved=True, now_s=400)
    again = plan_group([A, B], decision.state, node=NODE, send_resolved=True, now_s=500)
    assert not again.send


def test_resolved_then_quiet_group_ends_and_waits_again() -> None:
    sent = plan_group([A_RESOLVED], SENT_A, node=NODE, send_resolved=True, now_s=400).state
    ended = plan_group([], sent, node=NODE, send_resolved=True, now_s=500).state
    assert ended == GroupState()
    assert not plan_group([B], ended, node=NODE, send_resolved=True, now_s=510).send
