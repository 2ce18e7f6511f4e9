"""The inspections' worker job (``linewatch_worker``, registered in :mod:`web.inspections.apps`): schedule the
next inspection of every active plan, mark the late ones overdue, remind the assignees (each reminder once)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from web.inspections import services
from web.inspections.models import Inspection

log = logging.getLogger(__name__)


def run(*, today: dt.date | None = None) -> dict[str, int]:
    """One pass; ``today`` in the application's time zone. Returns what it did (for the log and the tests)."""
    today = today or timezone.localdate()
    scheduled = len(services.schedule_all())
    overdue = services.mark_overdue(today)
    reminded = 0
    for inspection in Inspection.objects.open().select_related("plan__assignee", "plan__site"):
        try:
            reminded += services.remind(inspection, today=today)
        except Exception:  # one inspection's failure never stops the others' reminders
            log.exception("inspection %s: reminder not enqueued", inspection.pk)
    done = {"scheduled": scheduled, "overdue": overdue, "reminded": reminded}
    if any(done.values()):
        log.info("inspections: %(scheduled)d scheduled, %(overdue)d overdue, %(reminded)d reminded", done)
    return done
