"""What the apps' state machines and their histories share (orders, invoices, findings and disputes): the model
method django-fsm moves for one row of a MOVES table, and the append-only history row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar


class AppendOnly(Exception):
    """An attempt to change or delete a history row (an order's, an invoice's, a dispute's)."""


class AppendOnlyHistory:
    """Mixin (before the model base) for a history row: it is created once, never saved again nor deleted.
    ``history_of`` names whose history it is in the refusal ("an order's")."""

    history_of: ClassVar[str]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:  # type: ignore[attr-defined]
            raise AppendOnly(f"{self.history_of} history is append-only")
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly(f"{self.history_of} history is append-only")


def fsm_move(field: Any, name: str, *, sources: Iterable[str], target: str, doc: str,
             conditions: Iterable[Callable[[Any], bool]] = ()) -> Callable[..., None]:
    """The model method named ``name`` that moves ``field`` from ``sources`` to ``target`` (django-fsm
    ``transition``); it moves the state only: the app's services do the rest (``doc`` says which)."""

    def method(self: Any) -> None:
        pass

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    from django_fsm import transition

    return transition(field=field, source=list(sources), target=target, conditions=list(conditions))(method)
