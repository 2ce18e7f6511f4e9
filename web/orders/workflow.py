"""The orders' state machines as one table: each move's kind, source states, target, and the roles that own it.

Pure data and functions (no Django): the model's django-fsm transitions (web/orders/models.py) are checked against
this table by a test, the services (web/orders/services.py) ask it who may move an order, the pages and the API
show only the moves it allows, and docs/orders.md draws it. ``roles`` empty: only linewatch itself (the worker's
jobs) makes the move; :data:`Role.ADMIN` may make every manual move.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from linewatch.choices import OrderKind, OrderState, Role

S = OrderState
ENGINEER = frozenset({Role.ENGINEER})
FINANCE = frozenset({Role.FINANCE})
SYSTEM: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Move:
    name: str
    kinds: tuple[OrderKind, ...]
    sources: tuple[OrderState, ...]
    target: OrderState
    roles: frozenset[Role]
    automatic: bool = False  # also made by the worker (roles may make it by hand as well)

    @property
    def forward(self) -> bool:
        """A step of the main path (not a rejection or a cancellation): each has an :class:`OrderStep`."""
        return self.target not in (S.REJECTED, S.CANCELLED, S.ACCEPTANCE_FAILED)


NEW, CHANGE, TERM = (OrderKind.NEW_LINE,), (OrderKind.CHANGE,), (OrderKind.TERMINATION,)
ALL_KINDS = tuple(OrderKind)

MOVES: tuple[Move, ...] = (
    # new line: requested -> approved -> ordered -> installed -> in_acceptance -> accepted
    Move("approve", NEW, (S.REQUESTED,), S.APPROVED, FINANCE),
    Move("place_order", NEW, (S.APPROVED,), S.ORDERED, ENGINEER),
    Move("install", NEW, (S.ORDERED,), S.INSTALLED, ENGINEER),
    Move("start_acceptance", NEW, (S.INSTALLED, S.ACCEPTANCE_FAILED), S.IN_ACCEPTANCE, ENGINEER, automatic=True),
    Move("accept", NEW, (S.IN_ACCEPTANCE,), S.ACCEPTED, SYSTEM, automatic=True),
    Move("fail_acceptance", NEW, (S.IN_ACCEPTANCE,), S.ACCEPTANCE_FAILED, SYSTEM, automatic=True),
    # change: requested -> agreed -> scheduled -> applied -> verified
    Move("agree", CHANGE, (S.REQUESTED,), S.AGREED, ENGINEER | FINANCE),  # who: agree_roles()
    Move("schedule", CHANGE, (S.AGREED,), S.SCHEDULED, ENGINEER),
    Move("apply", CHANGE, (S.SCHEDULED,), S.APPLIED, ENGINEER, automatic=True),
    Move("verify", CHANGE, (S.APPLIED,), S.VERIFIED, ENGINEER, automatic=True),
    # termination: requested -> notice_checked -> carrier_confirmed -> deprovisioning -> equipment_recovered
    # -> completed
    Move("check_notice", TERM, (S.REQUESTED,), S.NOTICE_CHECKED, FINANCE),
    Move("confirm_carrier", TERM, (S.NOTICE_CHECKED,), S.CARRIER_CONFIRMED, FINANCE | ENGINEER),
    Move("deprovision", TERM, (S.CARRIER_CONFIRMED,), S.DEPROVISIONING, ENGINEER),
    Move("recover_equipment", TERM, (S.DEPROVISIONING,), S.EQUIPMENT_RECOVERED, ENGINEER),
    Move("complete", TERM, (S.EQUIPMENT_RECOVERED,), S.COMPLETED, SYSTEM, automatic=True),
    # every kind
    Move("reject", ALL_KINDS, (S.REQUESTED,), S.REJECTED, FINANCE | ENGINEER),
    Move("cancel", ALL_KINDS, tuple(s for s in S if not s.final), S.CANCELLED,
         SYSTEM),  # who: the owners of the stage the order is in (cancel_roles()), and its requester
)
BY_NAME = {m.name: m for m in MOVES}
if len(BY_NAME) != len(MOVES):
    raise RuntimeError("web/orders/workflow.py: two moves share a name")


def moves_from(kind: OrderKind, state: OrderState) -> list[Move]:
    return [m for m in MOVES if kind in m.kinds and state in m.sources]


def stages(kind: OrderKind) -> list[OrderState]:
    """The states of ``kind``'s main path in order, ``requested`` first (the stage bar)."""
    path = [S.REQUESTED]
    for m in MOVES:
        if kind in m.kinds and m.forward and m.target not in path:
            path.append(m.target)
    return path


def step_moves(kind: OrderKind) -> list[Move]:
    """The forward moves of ``kind`` in order: one :class:`OrderStep` each."""
    seen: set[OrderState] = set()
    found = []
    for m in MOVES:
        if kind in m.kinds and m.forward and m.target not in seen:
            seen.add(m.target)
            found.append(m)
    return found


@dataclass(frozen=True)
class ChangeFacts:
    """What a change order changes, for :func:`agree_roles`."""

    capacity_or_port: bool  # a new capacity, site, carrier or port: the engineer agrees
    terms: bool  # new contract terms (MRC, commit, prices): finance agrees


def agree_roles(facts: ChangeFacts) -> frozenset[Role]:
    """Who agrees a change with the carrier: the engineer for the capacity and the port, finance for the terms
    (either, for a change of both)."""
    roles: set[Role] = set()
    if facts.capacity_or_port:
        roles.add(Role.ENGINEER)
    if facts.terms:
        roles.add(Role.FINANCE)
    return frozenset(roles or {Role.ENGINEER})


def cancel_roles(kind: OrderKind, state: OrderState) -> frozenset[Role]:
    """Who may cancel an order in ``state``: the roles owning that stage's moves forward (the engineer where only
    linewatch moves on: an acceptance under way)."""
    roles: set[Role] = set()
    for m in moves_from(kind, state):
        if m.forward:
            roles |= m.roles
    return frozenset(roles or ENGINEER)


def roles_for(move: Move, *, kind: OrderKind, state: OrderState, facts: ChangeFacts | None = None) -> frozenset[Role]:
    """The roles that may make ``move`` by hand (admin always may, unless the move is the worker's alone)."""
    if move.name == "agree" and facts is not None:
        roles = agree_roles(facts)
    elif move.name == "cancel":
        roles = cancel_roles(kind, state)
    else:
        roles = move.roles
    return roles | {Role.ADMIN} if roles else SYSTEM


def permitted(user_roles: Iterable[Role], allowed: frozenset[Role]) -> bool:
    return bool(set(user_roles) & allowed)
