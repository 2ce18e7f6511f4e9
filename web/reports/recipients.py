"""A schedule's recipients (``[{"user": ID}, {"receiver": NAME}, {"email": ADDRESS}]``) against the database and
``alerts.yaml``, and as the outbox's :class:`~web.notify.outbox.Recipient` objects when a report is queued.

Checked when a schedule is saved (a user without an email address, an unknown or webhook receiver: an error naming
it) and resolved again at delivery, when a user may have been deleted meanwhile (left out, and said so)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linewatch.errors import ConfigError
from web.notify.outbox import Recipient, alerts_config

log = logging.getLogger(__name__)


def report_receivers() -> list[str]:
    """The names of the alerts.yaml receivers that take messages (email, Slack; not webhooks); [] when the file
    is missing or invalid."""
    try:
        config = alerts_config()
    except (FileNotFoundError, ConfigError):
        return []
    return sorted(r.name for r in config.receivers if r.webhook is None)


def check_recipients(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` (already shaped by ``recipient_entries``) if every user exists with an email address and every
    receiver is a message receiver of alerts.yaml (not checked while alerts.yaml is missing)."""
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[e["user"] for e in entries if "user" in e])}
    for entry in entries:
        if "user" in entry:
            user = users.get(entry["user"])
            if user is None:
                raise ValidationError({"recipients": _("no user with id %(id)s") % {"id": entry["user"]}})
            if not user.email:
                raise ValidationError({"recipients": _("user %(name)s has no email address") % {
                    "name": user.get_username()}})
        elif "receiver" in entry:
            try:
                Recipient.receiver(entry["receiver"])
            except ValueError as exc:
                raise ValidationError({"recipients": str(exc)}) from None
    return entries


def outbox_recipients(entries: Sequence[dict[str, Any]], *, language: str) -> tuple[list[Recipient], list[str]]:
    """The outbox recipients of ``entries`` (an address reads ``language``) and what had to be left out, why."""
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[e["user"] for e in entries if "user" in e])}
    out: list[Recipient] = []
    problems: list[str] = []
    for entry in entries:
        try:
            if "user" in entry:
                user = users.get(entry["user"])
                if user is None:
                    raise ValueError(f"user {entry['user']}: deleted")
                out.append(Recipient.user(user))
            elif "receiver" in entry:
                out.append(Recipient.receiver(entry["receiver"]))
            else:
                out.append(Recipient.email(entry["email"], language=language))
        except ValueError as exc:
            problems.append(str(exc))
    return out, problems


def describe(entries: Sequence[dict[str, Any]]) -> list[str]:
    """The recipients as people read them (a user's name and address, a receiver's name, an address)."""
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[e["user"] for e in entries if "user" in e])}
    out = []
    for entry in entries:
        if "user" in entry:
            user = users.get(entry["user"])
            out.append(f"{user.get_username()} <{user.email}>" if user else f"#{entry['user']}")
        else:
            out.append(entry.get("receiver") or entry.get("email", ""))
    return out
