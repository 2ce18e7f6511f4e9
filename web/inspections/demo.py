"""The demo's inspection plans (``web/demo.py`` prepare): one per site, each with an inspection due this week."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from linewatch.choices import InspectionRecurrence
from web.inspections import services
from web.inspections.models import InspectionPlan
from web.inventory.models import Site

CHECKLIST = [
    "Rack, cabling and labels in order",
    "Router and CPE: power supplies and fans OK, no alarm LEDs",
    "UPS: battery test passed, load below 70 %",
    "Room temperature and humidity within limits",
    "Backup line fails over (test call / ping via the backup)",
]
ASSIGNEE = "engineer"  # the demo user of the engineer role (web/demo.py)


def seed(*, today: dt.date | None = None) -> int:
    """One monthly plan per site (none if any plan exists: later starts keep the application's changes), each
    with its first inspection due within this week; returns the number of plans created."""
    if InspectionPlan.objects.exists():
        return 0
    today = today or timezone.localdate()
    assignee = get_user_model().objects.filter(username=ASSIGNEE).first()
    created = 0
    for n, site in enumerate(Site.objects.order_by("name")):
        due = today + dt.timedelta(days=min(n % 3, 6 - today.weekday()))  # today to Sunday
        plan = InspectionPlan.objects.create(
            name=f"{site.name} monthly inspection", site=site, checklist=CHECKLIST,
            recurrence=InspectionRecurrence.MONTHLY_DAY, month_day=due.day, next_due=due, assignee=assignee)
        plan.lines.set(site.lines.all())
        services.schedule(plan)
        created += 1
    return created
