"""The notify app's job: deliver the due outbox messages (every 5 s, ``NotifyConfig.linewatch_jobs``)."""

from __future__ import annotations

from web.notify.outbox import deliver_due


def deliver_outbox() -> None:
    deliver_due()
