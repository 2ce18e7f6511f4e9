"""The demo's orders (``web/demo.py`` prepare), one of each kind in progress and one line in acceptance:

- a new line **PAR-INET-2** (``status: planned`` in config/lines.yaml, its port already listed) ordered from Colt,
  waiting for the installation (engineer);
- a bandwidth change of **FRA-MPLS-1** (saturated) from 100 to 200 Mbit/s, agreed and scheduled for next week;
- a termination of **LON-MPLS-1** (nearly idle) with the notice checked: its contract (config/contracts.yaml) has a
  36-month term from 2025-01-15 (90 days' notice), so a date next month shows the early-termination fee;
- **AMS-INET-1** in acceptance: a line the simulated routers carry (up, error-free, with traffic), its acceptance
  started a minute after the demo starts, so the worker judges it after ``orders.acceptance.window_s`` (600 s in
  config/linewatch.yaml) and the line becomes active during a short ``make run``.

The moves are made through :mod:`web.orders.services` by the demo users of the owning roles, as in the app; the
new-line orders of lines the files already hold are recorded as requested and moved on from there.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from linewatch.choices import ChangeKind, LineStatus, OrderKind, OrderState
from web.inventory.models import Line
from web.orders import services
from web.orders.models import Order, OrderStep

ACCEPTANCE_DELAY_S = 60  # the collector is polling by then (its first polls after the start are not missed)


def _user(name: str) -> Any:
    return get_user_model().objects.filter(username=name).first()


def _existing_line_order(line: Line, *, user: Any, justification: str, now: dt.datetime) -> Order:
    """A new-line order of a line the files already list (approval created it there): requested, approved."""
    order = services.create_order(kind=OrderKind.NEW_LINE, user=user, values={
        "line_name": f"{line.name}-request", "line_type": line.type, "site": line.site,
        "capacity_bps": line.capacity_bps, "department": line.department, "justification": justification,
        "carrier": line.carrier}, now=now)
    Order.objects.filter(pk=order.pk).update(line=line, line_name=line.name)
    order = Order.objects.get(pk=order.pk)
    line_before = line.status
    approved = services.BY_NAME["approve"]
    getattr(order, approved.name)()
    order.save()
    OrderStep.objects.filter(order=order, stage=OrderState.APPROVED.value).update(
        done_at=now, done_by_name="finance")
    services._event(order, services.OrderEventKind.TRANSITION, user=_user("finance"), move=approved,
                    source=OrderState.REQUESTED.value, text="demo: the line is in config/lines.yaml",
                    data={"line": line.name, "status": line_before}, now=now)
    return order


def seed(*, now: dt.datetime | None = None) -> int:
    """The demo orders (none if any order exists: later starts keep the application's changes); returns how many."""
    if Order.objects.exists():
        return 0
    now = now or timezone.now()
    engineer, finance, noc = _user("engineer"), _user("finance"), _user("noc")
    made = 0

    par = Line.objects.filter(name="PAR-INET-2").first()
    if par is not None:
        order = _existing_line_order(par, user=noc, now=now,
                                     justification="Paris sales office: a second internet line")
        services.transition(order, "place_order", user=engineer, now=now, values={
            "carrier_order_ref": "COLT-ORD-88120", "promised_date": par.install_date or (now + dt.timedelta(
                days=30)).date(), "quote_amount": Decimal(450)})
        step = order.steps.get(stage=OrderState.INSTALLED.value)
        services.assign_step(step, user=engineer, assignee=engineer, due_date=par.install_date, now=now)
        made += 1

    fra = Line.objects.filter(name="FRA-MPLS-1").first()
    if fra is not None:
        order = services.create_order(kind=OrderKind.CHANGE, user=engineer, values={
            "line": fra, "change_kind": ChangeKind.BANDWIDTH_UP.value, "capacity_bps": 200_000_000,
            "mrc": Decimal(2900), "commit_bps": 200_000_000,
            "justification": "saturated: above 80 % of its commit every day"}, now=now)
        services.transition(order, "agree", user=finance, now=now, text="Orange quote OBS-Q-5531 accepted")
        effective = (now + dt.timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
        services.transition(order, "schedule", user=engineer, now=now, values={"effective_at": effective})
        made += 1

    lon = Line.objects.filter(name="LON-MPLS-1").first()
    if lon is not None:
        order = services.create_order(kind=OrderKind.TERMINATION, user=finance, values={
            "line": lon, "requested_date": (now + dt.timedelta(days=40)).date(),
            "justification": "nearly idle: traffic moved to LON-INET-1"},
            recovery_items=["CPE router at London", "patch cables Gi0/0/2 and Gi0/0/3"], now=now)
        try:
            services.transition(order, "check_notice", user=finance, now=now, values={"fee_acknowledged": True})
        except Exception as exc:  # noqa: BLE001  (the demo goes on without the terms: shown in the log)
            print(f"[demo] orders: the notice check of LON-MPLS-1 failed: {exc}", flush=True)
        made += 1

    ams = Line.objects.filter(name="AMS-INET-1").first()
    if ams is not None and ams.members.exists():
        Line.objects.filter(pk=ams.pk).update(status=LineStatus.PROVISIONING.value)
        order = _existing_line_order(Line.objects.get(pk=ams.pk), user=noc,
                                     justification="Amsterdam: internet line (demo: acceptance live)", now=now)
        member = ams.members.first()
        Order.objects.filter(pk=order.pk).update(carrier_order_ref="DT-ORD-1177", device=member.device,
                                                 interface=member.interface)
        order = Order.objects.get(pk=order.pk)
        for name in ("place_order", "install"):
            move = services.BY_NAME[name]
            getattr(order, move.name)()
            order.save()
            services._event(order, services.OrderEventKind.TRANSITION, user=engineer, move=move,
                            source=move.sources[0].value, now=now)
        start = now + dt.timedelta(seconds=ACCEPTANCE_DELAY_S)
        services.transition(order, "start_acceptance", user=None, now=start,
                            text="demo: acceptance over orders.acceptance.window_s from the collector's first polls")
        made += 1
    return made
