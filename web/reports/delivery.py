"""Delivering scheduled reports exactly once per period, through the application's outbox (web/notify).

For a due period (:mod:`web.reports.schedule`) of a schedule, :func:`deliver` renders the report (HTML and PDF),
keeps both files in the archive (:mod:`web.reports.archive`) and then, in **one transaction**, writes the
:class:`~web.reports.models.ReportDelivery` row (unique per schedule and period) and queues the outbox message with
the PDF attached (``enqueue`` key ``report:<schedule id>:<period>``, itself unique). A second run, a second worker
or a run after a restart finds the row (or, were the row lost, the key) and sends nothing again; a crash between
rendering and the commit leaves only files, which the next run writes again. A failed rendering is recorded on the
row (state ``failed``, the reason, the attempts) and retried by later runs with a growing delay.

Once the outbox has delivered the message, :func:`mark_sent` turns the row ``sent`` (``sent_at`` = the outbox's
delivery time).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linewatch.choices import DeliveryStatus, ReportDeliveryState, ReportFormat
from web.notify.models import OutboxMessage
from web.notify.outbox import Attachment, enqueue
from web.reports import archive, engine
from web.reports.models import ReportDelivery, ReportSchedule
from web.reports.period import Period
from web.reports.recipients import outbox_recipients
from web.reports.schedule import due_period, next_run, retry_at

__all__ = ["RunReport", "deliver", "deliver_due", "mark_sent", "message_key", "run"]

log = logging.getLogger(__name__)
ERROR_MAX = 2000


def message_key(schedule: ReportSchedule, period: Period) -> str:
    """The outbox key of a schedule's period: unique, so the outbox itself refuses a second message."""
    return f"report:{schedule.pk}:{period.key}"


@dataclass
class RunReport:
    """What one run of the job did (for the log and the tests)."""

    queued: list[str] = field(default_factory=list)  # "schedule period"
    failed: list[tuple[str, str]] = field(default_factory=list)
    sent: int = 0


class _DeliveryProblem(Exception):
    """Rendering or queueing failed: recorded on the delivery row, tried again later."""


def _department(schedule: ReportSchedule) -> str | None:
    return schedule.department.name if schedule.department_id else None


def _render(schedule: ReportSchedule, period: Period, *, now: dt.datetime) -> tuple[str, str, bytes]:
    """The title, HTML and PDF of the schedule's report for ``period`` (one provider run: the files agree)."""
    files = engine.render_formats(schedule.report, period=period, language=schedule.language,
                                  department=_department(schedule), now=now)
    title = engine.get(schedule.report).title_in(schedule.language)
    return title, files[ReportFormat.HTML].content.decode("utf-8"), files[ReportFormat.PDF].content


def _message(schedule: ReportSchedule, period: Period, title: str) -> tuple[str, str]:
    """Subject and text of the mail carrying the report, in the schedule's language."""
    with translation.override(schedule.language):
        label = period.label(schedule.language)
        department = _department(schedule)
        subject = _("%(title)s, %(period)s") % {"title": title, "period": label}
        if department:
            subject = _("%(subject)s (%(department)s)") % {"subject": subject, "department": department}
        text = "\n\n".join([
            _("The report %(title)s for %(period)s is attached as a PDF.") % {"title": title, "period": label},
            _("Schedule: %(name)s. Earlier reports are kept in the application under Reports, Sent reports.") % {
                "name": schedule.name},
            "— linewatch",
        ])
    return subject, text


def _record_failure(schedule: ReportSchedule, period: Period, reason: str, *, now: dt.datetime) -> ReportDelivery:
    with transaction.atomic():
        delivery, _created = ReportDelivery.objects.select_for_update().get_or_create(
            schedule=schedule, period=period.key,
            defaults={"report": schedule.report, "language": schedule.language,
                      "department": _department(schedule) or "", "state": ReportDeliveryState.FAILED})
        if delivery.state != ReportDeliveryState.FAILED:  # delivered meanwhile by another run
            return delivery
        delivery.attempts += 1
        delivery.error = reason[:ERROR_MAX]
        delivery.save()
    log.error("report schedule %s (%s) %s: attempt %d failed: %s", schedule.pk, schedule.name, period.key,
              delivery.attempts, reason)
    return delivery


def deliver(schedule: ReportSchedule, period: Period, *, now: dt.datetime | None = None) -> ReportDelivery:
    """Deliver ``period`` of ``schedule`` once: the existing row when it was queued already, else render, keep
    the files and queue the message (one transaction with the row); a failure is recorded on the row."""
    now = now or timezone.now()
    existing = ReportDelivery.objects.filter(schedule=schedule, period=period.key).first()
    if existing is not None and existing.state != ReportDeliveryState.FAILED:
        return existing
    names = {fmt: archive.delivery_name(schedule_id=schedule.pk, report=schedule.report, period=period.key,
                                        language=schedule.language, fmt=fmt.value)
             for fmt in (ReportFormat.HTML, ReportFormat.PDF)}
    try:
        title, html, pdf = _render(schedule, period, now=now)
        archive.save(names[ReportFormat.HTML], html.encode("utf-8"))
        archive.save(names[ReportFormat.PDF], pdf)
        return _queue(schedule, period, title=title, pdf=pdf, names=names, now=now)
    except _DeliveryProblem as exc:
        return _record_failure(schedule, period, str(exc), now=now)
    except Exception as exc:  # a provider, a template, WeasyPrint, the disk: the next run tries again
        log.exception("report schedule %s (%s) %s: rendering failed", schedule.pk, schedule.name, period.key)
        return _record_failure(schedule, period, f"{type(exc).__name__}: {exc}", now=now)


def _queue(schedule: ReportSchedule, period: Period, *, title: str, pdf: bytes, names: dict[ReportFormat, str],
           now: dt.datetime) -> ReportDelivery:
    recipients, problems = outbox_recipients(schedule.recipients, language=schedule.language)
    for problem in problems:
        log.warning("report schedule %s (%s): recipient left out: %s", schedule.pk, schedule.name, problem)
    if not recipients:
        raise _DeliveryProblem(_("no recipient to send to") + (f" ({'; '.join(problems)})" if problems else ""))
    subject, text = _message(schedule, period, title)
    key = message_key(schedule, period)
    pdf_name = engine.filename(schedule.report, period, language=schedule.language,
                               department=_department(schedule), fmt=ReportFormat.PDF)
    with transaction.atomic():
        delivery, _created = ReportDelivery.objects.select_for_update().get_or_create(
            schedule=schedule, period=period.key,
            defaults={"report": schedule.report, "language": schedule.language,
                      "department": _department(schedule) or "", "state": ReportDeliveryState.FAILED})
        if delivery.state != ReportDeliveryState.FAILED:  # queued by a concurrent run meanwhile
            return delivery
        try:
            enqueue(key, to=recipients, subject=subject, text=text, language=schedule.language, about=delivery,
                    attachments=[Attachment(pdf_name, "application/pdf", pdf)])
        except ValueError as exc:  # too large for a mail, a bad recipient
            raise _DeliveryProblem(str(exc)) from None
        # enqueue returned False only if the key was queued before (the row lost by a restore): link that one.
        delivery.message = OutboxMessage.objects.get(key=key)
        delivery.state = ReportDeliveryState.RENDERED
        delivery.report, delivery.language, delivery.title = schedule.report, schedule.language, title[:300]
        delivery.department = _department(schedule) or ""
        delivery.html_file, delivery.pdf_file = names[ReportFormat.HTML], names[ReportFormat.PDF]
        delivery.pdf_size = len(pdf)
        delivery.attempts += 1
        delivery.error = ""
        delivery.rendered_at = now
        delivery.save()
    log.info("report schedule %s (%s) %s queued for %d recipient(s)", schedule.pk, schedule.name, period.key,
             len(recipients))
    return delivery


def deliver_due(schedule: ReportSchedule, *, now: dt.datetime) -> ReportDelivery | None:
    """The schedule's due period delivered (if one is due), and its ``next_run`` set: the next period's due moment,
    or the retry time after a failure."""
    tz = engine.report_tz(settings.LINEWATCH)
    period = due_period(schedule.period_kind, now, tz=tz, send_hour=schedule.send_hour)
    delivery = deliver(schedule, period, now=now) if period is not None else None
    if delivery is not None and delivery.state == ReportDeliveryState.FAILED:
        following = retry_at(now, attempts=delivery.attempts)
    else:
        following = next_run(schedule.period_kind, now, tz=tz, send_hour=schedule.send_hour)
    ReportSchedule.objects.filter(pk=schedule.pk).update(next_run=following)  # bookkeeping: not change-logged
    return delivery


def mark_sent() -> int:
    """Queued deliveries whose outbox message was delivered become ``sent``; how many."""
    count = 0
    for delivery in ReportDelivery.objects.filter(state=ReportDeliveryState.RENDERED,
                                                  message__status=DeliveryStatus.DELIVERED).select_related("message"):
        delivery.state = ReportDeliveryState.SENT
        delivery.sent_at = delivery.message.delivered_at  # type: ignore[union-attr]
        delivery.save(update_fields=["state", "sent_at", "last_updated"])
        count += 1
    return count


def run(*, now: dt.datetime | None = None) -> RunReport:
    """One pass over the enabled schedules whose next run has come (a new or edited one: at once)."""
    now = now or timezone.now()
    report = RunReport(sent=mark_sent())
    due = ReportSchedule.objects.filter(enabled=True).filter(Q(next_run__isnull=True) | Q(next_run__lte=now))
    for schedule in due.select_related("department").order_by("pk"):
        try:
            delivery = deliver_due(schedule, now=now)
        except Exception:  # one schedule's failure never stops the others
            log.exception("report schedule %s (%s): not delivered", schedule.pk, schedule.name)
            report.failed.append((schedule.name, "see the log"))
            continue
        if delivery is None:
            continue
        label = f"{schedule.name} {delivery.period}"
        if delivery.state == ReportDeliveryState.FAILED:
            report.failed.append((label, delivery.error))
        elif delivery.rendered_at == now:
            report.queued.append(label)
    if report.queued or report.failed or report.sent:
        log.info("reports: %d queued, %d failed, %d sent", len(report.queued), len(report.failed), report.sent)
    return report
