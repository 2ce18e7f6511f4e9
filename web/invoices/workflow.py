"""The invoices' state machine as one table: each move's source states, target, and the roles that own it.

Pure data (no Django): the model's django-fsm transitions (web/invoices/models.py) are built from it, the services
(web/invoices/services.py) ask it who may move an invoice, the pages and the API offer only the moves it allows, and
docs/invoices.md draws it. ``roles`` empty: only linewatch itself (the audit job) makes the move. Unlike the orders,
the admin role makes none of these moves: approving and paying are finance's alone (segregation of duties).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from linewatch.choices import InvoiceState, Role

S = InvoiceState
FINANCE = frozenset({Role.FINANCE})
SYSTEM: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Move:
    name: str
    sources: tuple[InvoiceState, ...]
    target: InvoiceState
    roles: frozenset[Role]
    permission: str = ""  # the custom permission (invoices.<codename>) finance holds for it


MOVES: tuple[Move, ...] = (
    Move("audit", (S.RECEIVED,), S.AUDITED, SYSTEM),  # the period's audit ran (web.invoices.audit)
    Move("reopen", (S.AUDITED,), S.RECEIVED, SYSTEM),  # the store replaced its rows: audit it again
    Move("approve", (S.AUDITED,), S.APPROVED, FINANCE, "approve_invoice"),
    Move("schedule", (S.APPROVED, S.SCHEDULED), S.SCHEDULED, FINANCE, "pay_invoice"),
    Move("mark_paid", (S.APPROVED, S.SCHEDULED), S.PAID, FINANCE, "pay_invoice"),
)
BY_NAME = {m.name: m for m in MOVES}
if len(BY_NAME) != len(MOVES):
    raise RuntimeError("web/invoices/workflow.py: two moves share a name")

UNPAID = tuple(s for s in S if s is not S.PAID)


def moves_from(state: InvoiceState) -> list[Move]:
    return [m for m in MOVES if state in m.sources]


def permitted(user_roles: Iterable[Role], move: Move) -> bool:
    return bool(set(user_roles) & move.roles)
