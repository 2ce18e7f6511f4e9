"""The demo's orders on the demo inventory (config/): one of each kind in progress, one line in acceptance."""

from __future__ import annotations

from pathlib import Path

import pytest

from linewatch.choices import LineStatus, OrderKind, OrderState

CONFIG = Path(__file__).resolve().parents[2] / "config"
pytestmark = pytest.mark.django_db


def test_demo_orders_show_each_kind_in_progress_and_a_line_in_acceptance(tmp_path):
    from django.utils import timezone

    from web.demo import ensure_demo_users
    from web.inventory import io
    from web.inventory.models import Line
    from web.orders import demo
    from web.orders.models import Order

    io.import_dir(CONFIG)
    ensure_demo_users(tmp_path / "users.txt")
    now = timezone.now()
    assert demo.seed(now=now) == 4
    orders = {(o.kind, o.line.name): o for o in Order.objects.select_related("line")}
    assert orders[(OrderKind.NEW_LINE, "PAR-INET-2")].state == OrderState.ORDERED
    change = orders[(OrderKind.CHANGE, "FRA-MPLS-1")]
    assert change.state == OrderState.SCHEDULED and 6 <= (change.effective_at - now).days <= 7
    termination = orders[(OrderKind.TERMINATION, "LON-MPLS-1")]
    assert termination.state == OrderState.NOTICE_CHECKED
    assert termination.terms["early"] is True and float(termination.terms["fee"]) > 0
    acceptance = orders[(OrderKind.NEW_LINE, "AMS-INET-1")]
    assert acceptance.state == OrderState.IN_ACCEPTANCE and acceptance.acceptance_started_at > now
    assert Line.objects.get(name="AMS-INET-1").status == LineStatus.PROVISIONING
    assert demo.seed(now=now) == 0, "a later start keeps the application's orders"
