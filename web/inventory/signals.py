"""The change log of a maintenance window's lines (a many-to-many: no save signal): each change of the set is an
update row of the window, ``lines`` before and after by name, as web/audit/signals.py logs a user's roles."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from web.audit.signals import _record_m2m
from web.inventory.models import PlannedMaintenance


def _names(window: PlannedMaintenance) -> list[str]:
    return sorted(window.lines.values_list("name", flat=True))


@receiver(m2m_changed, sender=PlannedMaintenance.lines.through)
def _log_window_lines(sender: type, instance: Any, action: str, reverse: bool, **kwargs: Any) -> None:
    if reverse:  # line.maintenance_windows.add(…): not done by the application; logged on the window's side only
        return
    if action.startswith("pre_"):
        instance._audit_lines_before = _names(instance)
        return
    _record_m2m(instance, "lines", getattr(instance, "_audit_lines_before", []), _names(instance))
