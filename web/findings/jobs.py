"""The findings' worker job (``linewatch_jobs`` of :class:`web.findings.apps.FindingsConfig`, run by
``linewatch_worker``), idempotent: running it twice, or after a restart, queues nothing twice.

- :func:`send_reminders`: a dispute sent (or answered, without a credit yet) ``finance.dispute_reminder_days``
  ago or more gets one dispute_reminder per round of that many days (outbox key
  ``dispute-reminder-<pk>-<round>``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from linewatch.choices import DisputeState
from web.findings import services
from web.findings.models import Dispute

log = logging.getLogger(__name__)


def send_reminders(now: dt.datetime | None = None) -> int:
    """Queue the due reminders of open disputes; returns how many were queued."""
    now = now or timezone.now()
    every_days = settings.LINEWATCH.finance.dispute_reminder_days
    queued = 0
    disputes = Dispute.objects.filter(state__in=[DisputeState.SENT, DisputeState.ANSWERED], sent_at__isnull=False,
                                      sent_at__lte=now - dt.timedelta(days=every_days)).select_related("carrier")
    for dispute in disputes:
        try:
            queued += services.remind(dispute, now=now, every_days=every_days)
        except Exception:  # one dispute's failure (a broken carrier template) must not stop the others
            log.exception("dispute %s: reminder failed", dispute.reference)
    return queued
