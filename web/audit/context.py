"""Who is changing things right now: the request's user, address and id (NetBox's ``change_logging`` context).

The middleware sets it per request; scripts and imports use :func:`change_context` so their rows name them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChangeContext:
    user: Any = None  # a django.contrib.auth user, or None (a script)
    user_name: str = ""
    remote_addr: str | None = None
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)


_current: ContextVar[ChangeContext | None] = ContextVar("linewatch_change_context", default=None)


def current() -> ChangeContext:
    """The active context; outside any request or ``change_context`` block, one fresh id per change."""
    return _current.get() or ChangeContext(user_name="system")


@contextlib.contextmanager
def change_context(*, user: Any = None, user_name: str | None = None,
                   remote_addr: str | None = None) -> Iterator[ChangeContext]:
    """Attribute the changes made inside the block to ``user`` (or ``user_name``, e.g. ``"import"``)."""
    name = user_name if user_name is not None else (user.get_username() if user is not None else "system")
    ctx = ChangeContext(user=user, user_name=name, remote_addr=remote_addr)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
