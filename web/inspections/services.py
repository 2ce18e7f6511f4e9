"""The state changes of inspections, each one function, atomic, with a keyword-only acting user: scheduling the
next inspection of a plan, marking overdue ones, performing one (its results, a fault ticket per failed item
asked for) and reminding the assignee (through the application's outbox, once per inspection and reminder)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linewatch.choices import FaultKind, InspectionOutcome, InspectionState, MessageKind
from web.accounts.permissions import is_permitted
from web.inspections.models import Inspection, InspectionPlan, InspectionResult
from web.inspections.schedule import following_due, state_on

__all__ = ["ItemResult", "mark_overdue", "perform", "remind", "reminder_key", "schedule", "schedule_all"]


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What was found for one checklist item (``position`` from 0); ``open_ticket`` for a failed one."""

    position: int
    outcome: InspectionOutcome
    note: str = ""
    open_ticket: bool = False


def schedule(plan: InspectionPlan) -> Inspection | None:
    """The plan's next inspection (due ``plan.next_due``, one result row per checklist item), unless the plan is
    inactive or still has an open one; the plan's ``next_due`` moves one interval on. Idempotent."""
    with transaction.atomic():
        plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        if not plan.active or plan.inspections.open().exists():
            return None
        inspection, created = Inspection.objects.get_or_create(plan=plan, due=plan.next_due)
        if created:
            for position, item in enumerate(plan.checklist):
                InspectionResult.objects.create(inspection=inspection, position=position, item=item[:500])
        plan.next_due = following_due(plan.next_due, recurrence=plan.recurrence, interval_days=plan.interval_days,
                                      month_day=plan.month_day)
        plan.save(update_fields=["next_due", "last_updated"])
        return inspection if created else None


def schedule_all() -> list[Inspection]:
    """:func:`schedule` for every active plan."""
    created = [schedule(plan) for plan in InspectionPlan.objects.filter(active=True)]
    return [inspection for inspection in created if inspection is not None]


def mark_overdue(today: dt.date) -> int:
    """Open inspections whose due day is before ``today`` become overdue (one saved row each: change-logged)."""
    count = 0
    for inspection in Inspection.objects.filter(state=InspectionState.DUE, due__lt=today):
        inspection.state = state_on(inspection.due, today, done=False)
        inspection.save(update_fields=["state", "last_updated"])
        count += 1
    return count


class InspectionProblem(ValidationError):
    """A perform request that cannot be applied (names the field and the reason)."""


def _check_results(inspection: Inspection, results: Sequence[ItemResult]) -> dict[int, ItemResult]:
    rows = {r.position for r in inspection.results.all()}
    given: dict[int, ItemResult] = {}
    for result in results:
        if result.position not in rows:
            raise InspectionProblem({"results": _("item %(position)s: not on this inspection's checklist") % {
                "position": result.position + 1}})
        if result.open_ticket and result.outcome != InspectionOutcome.NOT_OK:
            raise InspectionProblem({"results": _("item %(position)s: a ticket is opened only for a failed item") % {
                "position": result.position + 1}})
        given[result.position] = result
    missing = sorted(rows - set(given))
    if missing:
        raise InspectionProblem({"results": _("items without a result: %(items)s") % {
            "items": ", ".join(str(p + 1) for p in missing)}})
    return given


def _open_ticket(inspection: Inspection, row: InspectionResult, *, user: Any, token: Any = None) -> Any:
    """A fault ticket for a failed item, through the faults app's own service (its role check, timeline event)."""
    from web.faults.services import open_ticket

    plan = inspection.plan
    line = plan.lines.order_by("name").first()
    description = _("Periodic inspection %(plan)s due %(due)s, item %(position)s: %(item)s") % {
        "plan": plan.name, "due": inspection.due.isoformat(), "position": row.position + 1, "item": row.item}
    if row.note:
        description += "\n\n" + row.note
    extra = {"site": plan.site} if line is None else {}
    return open_ticket(acting_user=user, kind=FaultKind.OTHER, line=line, token=token, description=description,
                       location=str(plan.site or plan.name)[:200], **extra)


def perform(inspection: Inspection, *, user: Any, results: Sequence[ItemResult], follow_up: str = "",
            token: Any = None) -> Inspection:
    """Record ``inspection`` as performed by ``user`` now: every checklist item's result (all are required), the
    follow-up note, a fault ticket for each failed item with ``open_ticket`` (needs the right to add tickets);
    then the plan's next inspection is scheduled. One transaction: nothing is kept if any part is refused."""
    from web.faults.models import Ticket

    if not is_permitted(user, Inspection, "change", token=token):
        raise PermissionDenied(_("your role may not perform inspections"))
    if any(r.open_ticket for r in results) and not is_permitted(user, Ticket, "add", token=token):
        raise PermissionDenied(_("your role may not open fault tickets"))
    with transaction.atomic():
        inspection = Inspection.objects.select_for_update().select_related("plan").get(pk=inspection.pk)
        if not inspection.is_open:
            raise InspectionProblem({"state": _("this inspection was already performed")})
        given = _check_results(inspection, results)
        for row in inspection.results.all():
            result = given[row.position]
            row.outcome, row.note = result.outcome.value, result.note.strip()
            if result.open_ticket:
                row.ticket = _open_ticket(inspection, row, user=user, token=token)
            row.save()
        inspection.state = InspectionState.DONE
        inspection.performed_at = timezone.now()
        inspection.performed_by = user
        inspection.follow_up = follow_up.strip()
        inspection.save()
        schedule(inspection.plan)
    return inspection


def reminder_key(inspection: Inspection, reminder: str, user: Any) -> str:
    """The outbox key of one reminder (``due`` or ``overdue``) of one inspection to one user: sent once."""
    return f"inspection:{inspection.pk}:{reminder}:user:{user.pk}"


def _reminder(inspection: Inspection, today: dt.date) -> str | None:
    if not inspection.is_open:
        return None
    if inspection.due < today:
        return "overdue"
    if (inspection.due - today).days <= inspection.plan.remind_days:
        return "due"
    return None


def remind(inspection: Inspection, *, today: dt.date, base_url: str = "") -> bool:
    """Enqueue the assignee's reminder (``due`` within the plan's ``remind_days``, then ``overdue``) unless it was
    enqueued before; True if a message was enqueued."""
    from web.notify.outbox import Recipient, enqueue, user_language
    from web.notify.templates import render

    reminder = _reminder(inspection, today)
    assignee = inspection.plan.assignee
    if reminder is None or assignee is None or not assignee.email:
        return False
    language = user_language(assignee)
    context: Mapping[str, Any] = {
        "plan": inspection.plan.name, "due": inspection.due.isoformat(), "overdue": reminder == "overdue",
        "site": str(inspection.plan.site or ""), "lines": [line.name for line in inspection.plan.lines.all()],
        "items": len(inspection.plan.checklist), "url": base_url + inspection.get_absolute_url(),
        "assignee": assignee.get_full_name() or assignee.get_username(),
    }
    message = render(MessageKind.INSPECTION_DUE, language=language, context=context)
    with transaction.atomic():
        return enqueue(reminder_key(inspection, reminder, assignee), to=[Recipient.user(assignee)],
                       subject=message.subject, text=message.text, html=message.html, language=language,
                       about=inspection)
