"""Voice template helpers: labels of the call enumerations, durations, and ``{% voice_line_calls line %}`` — a
voice line's calls on the line page (latest calls, today's minutes by destination class, the month's cost)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from linewatch.choices import CallDirection, CallOutcome, DestinationClass, LineType
from web.accounts.permissions import is_permitted
from web.labels import LABELS
from web.voice import labels as _labels  # noqa: F401  (registers the voice labels)
from web.voice.models import CallRecord

register = template.Library()
LATEST_CALLS = 10


def _label(enum: Any, value: Any) -> Any:
    try:
        return LABELS[enum][enum(value)]
    except (ValueError, KeyError):
        return value or "—"


@register.filter
def direction_label(value: Any) -> Any:
    return _label(CallDirection, value)


@register.filter
def outcome_label(value: Any) -> Any:
    return _label(CallOutcome, value)


@register.filter
def class_label(value: Any) -> Any:
    return _label(DestinationClass, value)


@register.filter
def seconds(value: Any) -> str:
    """Seconds as ``m:ss`` (``h:mm:ss`` from an hour); ``—`` when unknown."""
    if value is None:
        return "—"
    total = round(float(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.inclusion_tag("voice/_line_calls.html", takes_context=True)
def voice_line_calls(context: template.Context, line: Any) -> dict[str, Any]:
    """Nothing for a line that is not a voice trunk; else its figures (and its latest calls for the roles that
    may read calls)."""
    if line.type != LineType.VOICE_TRUNK:
        return {"voice": False}
    from web.voice import trunks
    from web.voice.calls import CallFilter, read_calls, records
    from web.voice.directory import app_directory
    from web.voice.views import currency_of

    now = trunks.local_now()
    day_start_s, month_start_s = trunks.local_starts(now)
    figures = trunks.line_voice(line.name, day_start_s=day_start_s, month_start_s=month_start_s,
                                now_s=now.timestamp())
    out: dict[str, Any] = {"voice": True, "line": line, "figures": figures, "currency": currency_of(line),
                           "may_read_calls": is_permitted(context["request"].user, CallRecord, "view")}
    if out["may_read_calls"]:
        calls = read_calls(CallFilter(start_s=month_start_s - 31 * 86_400, end_s=now.timestamp() + 1,
                                      lines=[line.name]), directory=app_directory(), limit=LATEST_CALLS)
        out |= {"calls": records(calls.frame, timezone.get_current_timezone()), "calls_error": calls.error}
    return out
