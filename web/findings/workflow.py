"""The findings' and disputes' state machines as one table: each move's machine, sources, target and owning roles.

Pure data (no Django): the models' django-fsm transitions (web/findings/models.py) are made from this table, the
services (web/findings/services.py) ask it who may move what, the pages and the API offer only the moves it allows,
and docs/disputes.md draws it. Every manual move is finance's (segregation of duties: admins manage suppression
rules but do not triage or dispute); ``user=None`` is linewatch itself (the worker, the credit matching).

Finding: new → accepted (a reason) → new (reopen); new → disputed (in a dispute) → resolved (its dispute ended).
Dispute: draft → sent → answered → resolved, and sent → resolved (a credit arrives without an answer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from linewatch.choices import DisputeState, FindingState, Role

FINANCE = frozenset({Role.FINANCE})
F, D = FindingState, DisputeState


class Machine(StrEnum):
    FINDING = "finding"
    DISPUTE = "dispute"


@dataclass(frozen=True)
class Move:
    name: str
    machine: Machine
    sources: tuple[str, ...]
    target: str
    roles: frozenset[Role]


MOVES: tuple[Move, ...] = (
    Move("accept", Machine.FINDING, (F.NEW,), F.ACCEPTED, FINANCE),
    Move("reopen", Machine.FINDING, (F.ACCEPTED,), F.NEW, FINANCE),
    Move("add_to_dispute", Machine.FINDING, (F.NEW,), F.DISPUTED, FINANCE),  # by open_dispute
    Move("resolve", Machine.FINDING, (F.DISPUTED,), F.RESOLVED, FINANCE),  # by resolve_dispute
    Move("send", Machine.DISPUTE, (D.DRAFT,), D.SENT, FINANCE),
    Move("answer", Machine.DISPUTE, (D.SENT,), D.ANSWERED, FINANCE),
    Move("resolve_dispute", Machine.DISPUTE, (D.SENT, D.ANSWERED), D.RESOLVED, FINANCE),
)
BY_NAME = {m.name: m for m in MOVES}
if len(BY_NAME) != len(MOVES):
    raise RuntimeError("web/findings/workflow.py: two moves share a name")


def moves_of(machine: Machine) -> list[Move]:
    return [m for m in MOVES if m.machine is machine]


def moves_from(machine: Machine, state: str) -> list[Move]:
    return [m for m in MOVES if m.machine is machine and state in m.sources]


def permitted(user_roles: Iterable[Role], move: Move) -> bool:
    return bool(set(user_roles) & move.roles)
