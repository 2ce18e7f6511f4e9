"""Template filters of the login pages."""

from __future__ import annotations

import datetime as dt
import math

from django import template

register = template.Library()


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    """A duration in whole minutes, rounded up (the lockout page: "locked for 15 minutes")."""
    return math.ceil(value.total_seconds() / 60) if value else 0
