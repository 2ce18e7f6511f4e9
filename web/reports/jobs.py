"""The reports' worker job (``linewatch_worker``, registered in :mod:`web.reports.apps`): deliver the due periods
of every enabled schedule, exactly once each (:mod:`web.reports.delivery`)."""

from __future__ import annotations

from web.reports import delivery


def deliver_reports() -> None:
    delivery.run()
