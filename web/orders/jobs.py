"""The orders' worker jobs (``linewatch_jobs`` of :class:`web.orders.apps.OrdersConfig`, run by
``linewatch_worker``): each is idempotent, so running it twice, or on two workers, changes nothing twice.

- :func:`run_acceptance`: a new line whose acceptance window has passed is judged (``evaluate_acceptance``,
  web/orders/acceptance.py): passed → accepted, the line active; failed → the figures and failures recorded, the
  assignee told, the engineer may restart it.
- :func:`apply_changes`: a scheduled change whose effective moment has come is applied (its version rows).
- :func:`verify_changes`: an applied bandwidth change is verified (``verify_change``) once observable.
- :func:`complete_terminations`: a termination whose date has come (equipment recovered) is completed: the line
  decommissioned, the completion notice queued.
- :func:`send_reminders`: due-soon and overdue reminders of the steps (``orders.reminder_days_before``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from linewatch import inventory as core
from linewatch.choices import ChangeKind, OrderKind, OrderState
from linewatch.errors import LinewatchError
from web.orders import messages, services
from web.orders.models import Order, OrderEvent, OrderStep

log = logging.getLogger(__name__)
VERIFY_WINDOW_S = 7 * 86400  # a bandwidth change is watched this long for traffic above the old capacity


def core_line(line: Any) -> core.Line:
    """The web line with its members as the core's model (what the collector polls)."""
    config = {k: v for k, v in line.as_config().items() if k not in core.SINGLE_PORT_KEYS}
    config["members"] = line.stored_members()
    config["capacity_changes"] = [c.as_config() for c in line.capacity_changes.all()]
    return core.Line.model_validate(config)


def influx_client() -> Any:
    from linewatch.influx import InfluxClient

    return InfluxClient(settings.LINEWATCH.influx_settings())


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def run_acceptance(now: dt.datetime | None = None, *, influx: Any = None) -> int:
    """Judge every acceptance whose window has ended; returns how many were decided."""
    from web.orders.acceptance import evaluate_acceptance
    from web.orders.acceptance_logic import AcceptanceCriteria

    now = _now(now)
    criteria = AcceptanceCriteria.from_settings(settings.LINEWATCH)
    window = dt.timedelta(seconds=criteria.window_s)
    decided = 0
    for order in Order.objects.filter(kind=OrderKind.NEW_LINE.value, state=OrderState.IN_ACCEPTANCE.value,
                                      acceptance_started_at__lte=now - window).select_related("line"):
        start = order.acceptance_started_at
        try:
            result = evaluate_acceptance(influx or influx_client(), core_line(order.line),
                                         start_s=start.timestamp(), end_s=(start + window).timestamp(),
                                         criteria=criteria)
        except LinewatchError as exc:
            log.warning("order %s: acceptance not evaluated (%s); tried again next run", order.pk, exc)
            continue
        data = result.as_json() | {"start": start.isoformat(), "end": (start + window).isoformat()}
        move = "accept" if result.passed else "fail_acceptance"
        services.transition(order, move, user=None, values={"acceptance": data}, now=now)
        decided += 1
    return decided


def apply_changes(now: dt.datetime | None = None) -> int:
    now = _now(now)
    applied = 0
    for order in Order.objects.filter(kind=OrderKind.CHANGE.value, state=OrderState.SCHEDULED.value,
                                      effective_at__lte=now):
        services.transition(order, "apply", user=None, now=now)
        applied += 1
    return applied


def verify_changes(now: dt.datetime | None = None, *, influx: Any = None) -> int:
    """Verify applied bandwidth changes once observable; a move or carrier change is verified by hand."""
    from web.orders.verification import verify_change

    now = _now(now)
    decided = 0
    bandwidth = (ChangeKind.BANDWIDTH_UP.value, ChangeKind.BANDWIDTH_DOWN.value)
    for order in Order.objects.filter(kind=OrderKind.CHANGE.value, state=OrderState.APPLIED.value,
                                      change_kind__in=bandwidth, capacity_bps__isnull=False).select_related("line"):
        effective = order.effective_at
        try:
            result = verify_change(influx or influx_client(), core_line(order.line),
                                   effective_s=effective.timestamp(), end_s=effective.timestamp() + VERIFY_WINDOW_S,
                                   old_capacity_bps=order.old_capacity_bps or order.line.capacity_bps,
                                   new_capacity_bps=order.capacity_bps, now_s=now.timestamp())
        except LinewatchError as exc:
            log.warning("order %s: change not verified (%s); tried again next run", order.pk, exc)
            continue
        if result.passed is None:
            continue
        data = result.as_json() | {"checked_at": now.isoformat()}
        if result.passed:
            services.transition(order, "verify", user=None, values={"verification": data}, now=now)
            decided += 1
        elif (order.verification or {}).get("failure_codes") != data["failure_codes"]:
            _record_failed_verification(order, data, now)
            decided += 1
    return decided


def _record_failed_verification(order: Order, data: dict[str, Any], now: dt.datetime) -> None:
    """A failed verification stays ``applied`` (an engineer looks, fixes and verifies by hand); recorded once."""
    from django.db import transaction

    from linewatch.choices import OrderEventKind

    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(verification=data)
        OrderEvent.objects.create(order=order, kind=OrderEventKind.VERIFICATION.value, actor_name=services.SYSTEM_NAME,
                                  text="; ".join(data.get("failures", [])), data=data, time=now)
        messages.attention(order, stage=OrderState.VERIFIED, reason="verification_failed",
                           failures=data.get("failures", []), now=now)


def complete_terminations(now: dt.datetime | None = None) -> int:
    now = _now(now)
    completed = 0
    for order in Order.objects.filter(kind=OrderKind.TERMINATION.value, state=OrderState.EQUIPMENT_RECOVERED.value,
                                      requested_date__lte=timezone.localdate(now)):
        services.transition(order, "complete", user=None, now=now)
        completed += 1
    return completed


def send_reminders(now: dt.datetime | None = None) -> int:
    """Queue due-soon and overdue reminders of open steps; the outbox keys make each one exactly once."""
    now = _now(now)
    today = timezone.localdate(now)
    soon = today + dt.timedelta(days=settings.LINEWATCH.orders.reminder_days_before)
    queued = 0
    steps = OrderStep.objects.filter(done_at__isnull=True, assignee__isnull=False, due_date__isnull=False,
                                     due_date__lte=soon).exclude(
        order__state__in=[s.value for s in OrderState if s.final]).select_related("order__line", "assignee")
    for step in steps:
        queued += messages.due(step, overdue=step.due_date < today)
    return queued


def run_all(now: dt.datetime | None = None) -> None:
    """Every job once (the worker runs each on its own interval)."""
    for job in (run_acceptance, apply_changes, verify_changes, complete_terminations, send_reminders):
        job(now)
