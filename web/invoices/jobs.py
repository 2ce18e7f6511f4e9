"""The invoices' worker jobs (``linewatch_jobs`` of :class:`web.invoices.apps.InvoicesConfig`, run by
``linewatch_worker``), each idempotent:

- :func:`sync_and_audit` (every ``finance.audit_interval_s``): mirror the ETL store (:func:`sync_store`), then audit
  the periods of new or re-synced invoices and of invoices still ``received`` (a failed audit is retried), and once
  a day the current and the previous month when they have invoices (usage measured since, contracts edited
  since; a month without any invoice is not audited: its costs would read as 0 spent);
- :func:`send_payment_reminders` (hourly): the payment reminders and overdue alerts (web/invoices/reminders.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from billing_etl.model import Period
from linewatch.choices import InvoiceState
from linewatch.fileperms import write_private
from web.invoices import reminders
from web.invoices.audit import PeriodAudit, audit_periods
from web.invoices.models import Invoice
from web.invoices.sync import sync_store

log = logging.getLogger(__name__)
DAILY_MARK = "invoices-daily-audit.txt"  # under STATE_DIR: the day the current and previous month were audited


def _daily_mark() -> Path:
    return Path(settings.STATE_DIR) / DAILY_MARK


def periods_to_audit(new_periods: set[str], today: dt.date) -> set[str]:
    periods = set(new_periods)
    periods |= set(Invoice.objects.filter(state=InvoiceState.RECEIVED.value).values_list("period", flat=True))
    if _daily_due(today):
        periods |= _daily_periods(today)
    return periods


def _daily_due(today: dt.date) -> bool:
    mark = _daily_mark()
    return not mark.is_file() or mark.read_text(encoding="utf-8").strip() != today.isoformat()


def _daily_periods(today: dt.date) -> set[str]:
    """The current and the previous month, those of them that have invoices."""
    current = Period.containing(today)
    months = {str(current), str(current.previous())}
    return set(Invoice.objects.filter(period__in=months).values_list("period", flat=True).distinct())


def sync_and_audit(today: dt.date | None = None) -> list[PeriodAudit]:
    today = today or timezone.localdate()
    report = sync_store()
    if report.new or report.updated or report.skipped:
        log.info("invoice store mirrored: %d new, %d updated, %d unchanged, %d skipped (%s)", len(report.new),
                 len(report.updated), report.unchanged, len(report.skipped), "; ".join(report.skipped))
    daily_due = _daily_due(today)
    periods = periods_to_audit(report.periods, today)
    results = audit_periods(periods) if periods else []
    if daily_due:
        write_private(_daily_mark(), today.isoformat() + "\n")
    return results


def send_payment_reminders() -> int:
    return reminders.send_reminders()
