"""Translated labels of the inspections' enumerations (the values live in :mod:`linewatch.choices`)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linewatch.choices import InspectionOutcome, InspectionRecurrence, InspectionState

STATE_LABELS: dict[InspectionState, Promise] = {
    InspectionState.DUE: _("Due"),
    InspectionState.OVERDUE: _("Overdue"),
    InspectionState.DONE: _("Done"),
}
STATE_COLOURS: dict[InspectionState, str] = {
    InspectionState.DUE: "blue", InspectionState.OVERDUE: "red", InspectionState.DONE: "green",
}
# A context of their own: "OK" elsewhere (a button, a status) is translated differently.
OUTCOME_LABELS: dict[InspectionOutcome, Promise] = {
    InspectionOutcome.OK: pgettext_lazy("inspection outcome", "OK"),
    InspectionOutcome.NOT_OK: pgettext_lazy("inspection outcome", "Not OK"),
    InspectionOutcome.NOT_APPLICABLE: pgettext_lazy("inspection outcome", "N/A"),
}
RECURRENCE_LABELS: dict[InspectionRecurrence, Promise] = {
    InspectionRecurrence.EVERY_N_DAYS: _("Every N days"),
    InspectionRecurrence.MONTHLY_DAY: _("On a day of every month"),
}

STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in InspectionState]
OUTCOME_CHOICES = [(o.value, OUTCOME_LABELS[o]) for o in InspectionOutcome]
RECURRENCE_CHOICES = [(r.value, RECURRENCE_LABELS[r]) for r in InspectionRecurrence]
