"""Sessions in the database (Django's backend) that know the expiry stored with them.

With ``SESSION_SAVE_EVERY_REQUEST`` every page wrote its session back (an ``UPDATE`` and a ``COMMIT``, the
slowest part of the line list on SQLite: bench ``web-lines``). Instead :mod:`web.accounts.middleware` renews
the stored expiry only when it would move by more than ``RENEW_S``; for that the store remembers the expiry it
loaded (``stored_expiry``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    stored_expiry: dt.datetime | None = None  # the loaded row's expire_date (None: nothing loaded)

    def _get_session_from_db(self) -> Any:
        stored = super()._get_session_from_db()
        self.stored_expiry = stored.expire_date if stored is not None else None
        return stored

    async def _aget_session_from_db(self) -> Any:
        stored = await super()._aget_session_from_db()
        self.stored_expiry = stored.expire_date if stored is not None else None
        return stored
