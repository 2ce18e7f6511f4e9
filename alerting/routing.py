"""The routing tree (Alertmanager semantics) and notification grouping, as pure functions.

Routing: an alert enters at the root; each child route whose matchers all match takes it, in order; the first
matching child wins unless it has ``continue: true``; a node none of whose children match handles the alert itself.

Grouping (per receiver-route and values of ``group_by``): a group notifies ``group_wait_s`` after its first alert
appears, then at most every ``group_interval_s`` when its content changed (new alert, severity change, resolved
alert), and re-sends the firing alerts every ``repeat_interval_s`` when nothing changed — except alerts that were
acknowledged since they last changed state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alerting.config import Route
from alerting.matchers import LABEL_NAMES, Matcher, all_match

DEFAULT_GROUP_BY = ("rule", "department")
DEFAULT_GROUP_WAIT_S = 30.0
DEFAULT_GROUP_INTERVAL_S = 300.0
DEFAULT_REPEAT_INTERVAL_S = 4 * 3600.0


@dataclass(frozen=True, slots=True)
class RouteNode:
    """A compiled route: matchers plus its effective (inherited) receiver and timings."""

    id: str  # "0", "0.1", "0.1.0": stable as long as the tree keeps its shape
    matchers: tuple[Matcher, ...]
    receiver: str
    continue_: bool
    group_by: tuple[str, ...]
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float
    children: tuple[RouteNode, ...]

    def group_key(self, labels: Mapping[str, str]) -> str:
        """The group this alert falls in on this route (``...`` in group_by: one group per alert)."""
        names = LABEL_NAMES if "..." in self.group_by else self.group_by
        values = ",".join(f"{name}={labels.get(name, '')}" for name in names)
        return f"{self.id}:{{{values}}}"


def compile_route(route: Route, *, parent: RouteNode | None = None, node_id: str = "0") -> RouteNode:
    def pick(value: object, inherited: object, default: object) -> object:
        if value is not None:
            return value
        return inherited if parent is not None else default

    receiver = route.receiver if route.receiver is not None else (parent.receiver if parent else "")
    node = RouteNode(
        id=node_id,
        matchers=route.parsed_matchers,
        receiver=receiver,
        continue_=route.continue_,
        group_by=tuple(pick(route.group_by, parent.group_by if parent else None, DEFAULT_GROUP_BY)),  # type: ignore[arg-type]
        group_wait_s=float(pick(route.group_wait_s, parent.group_wait_s if parent else None, DEFAULT_GROUP_WAIT_S)),  # type: ignore[arg-type]
        group_interval_s=float(pick(route.group_interval_s, parent.group_interval_s if parent else None,  # type: ignore[arg-type]
                                    DEFAULT_GROUP_INTERVAL_S)),
        repeat_interval_s=float(pick(route.repeat_interval_s, parent.repeat_interval_s if parent else None,  # type: ignore[arg-type]
                                     DEFAULT_REPEAT_INTERVAL_S)),
        children=(),
    )
    children = tuple(compile_route(child, parent=node, node_id=f"{node_id}.{i}") for i, child in enumerate(route.routes))
    return RouteNode(**{**{f: getattr(node, f) for f in node.__slots__}, "children": children})  # type: ignore[attr-defined]


def match_routes(root: RouteNode, labels: Mapping[str, str]) -> list[RouteNode]:
    """Every route node that handles an alert with these labels (more than one with ``continue``)."""

    def visit(node: RouteNode) -> list[RouteNode]:
        if not all_match(node.matchers, labels):
            return []
        handled: list[RouteNode] = []
        for child in node.children:
            hits = visit(child)
            if hits:
                handled.extend(hits)
                if not child.continue_:
                    break
        return handled or [node]

    return visit(root)


# -- grouping -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupState:
    """What a group last notified (stored): alert key → ``"firing:<severity>"``; times in epoch seconds."""

    first_seen_s: float | None = None
    last_sent_s: float | None = None
    notified: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class GroupMember:
    """An alert of a group as the notification step sees it."""

    key: str
    firing: bool  # False: resolved
    severity: str
    acked: bool = False


@dataclass(frozen=True, slots=True)
class GroupDecision:
    send: bool
    firing: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    reason: str = ""
    state: GroupState = GroupState()


def plan_group(members: Sequence[GroupMember], state: GroupState, *, node: RouteNode, send_resolved: bool,
               now_s: float) -> GroupDecision:
    """Decide whether a group notifies now, with which alerts, and the group's next stored state.

    ``members``: the group's unmuted firing alerts, and resolved alerts this group last notified as firing.
    """
    notified = dict(state.notified or {})
    firing = {m.key: f"firing:{m.severity}" for m in members if m.firing}
    resolved = [m.key for m in members if not m.firing and m.key in notified]
    news = [k for k, v in firing.items() if notified.get(k) != v]
    gone = [k for k in notified if k not in firing and k not in resolved]  # muted or silenced: dropped quietly
    first_seen = state.first_seen_s
    if not firing and not resolved:
        # Nothing to say: the group ends. A new alert starts a new group (and waits group_wait again).
        return GroupDecision(False, state=GroupState())
    if first_seen is None:
        first_seen = now_s
    changed = bool(news) or (bool(resolved) and send_resolved)
    if state.last_sent_s is None:
        due = now_s >= first_seen + node.group_wait_s and bool(firing)
        reason = "group_wait"
    elif changed:
        due = now_s >= state.last_sent_s + node.group_interval_s
        reason = "group_interval"
    else:
        unacked = [m for m in members if m.firing and not m.acked]
        due = bool(unacked) and now_s >= state.last_sent_s + node.repeat_interval_s
        reason = "repeat_interval"
    if not due:
        if resolved and not send_resolved:
            for k in resolved:
                notified.pop(k, None)
        for k in gone:
            notified.pop(k, None)
        return GroupDecision(False, state=GroupState(first_seen, state.last_sent_s, notified))
    sent_resolved = tuple(sorted(resolved)) if send_resolved else ()
    new_state = GroupState(first_seen, now_s, dict(firing))
    if reason == "repeat_interval":
        send_firing = tuple(sorted(m.key for m in members if m.firing and not m.acked))
    else:
        send_firing = tuple(sorted(firing))
    if not send_firing and not sent_resolved:
        return GroupDecision(False, state=new_state)
    return GroupDecision(True, firing=send_firing, resolved=sent_resolved, reason=reason, state=new_state)
