"""Translated labels of the inspections' enumerations (the values live in :mod:`linewatch.choices`), registered with
:mod:`web.labels` (``choices_of``, ``label``); importing this module fails if a value has none."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linewatch.choices import InspectionOutcome, InspectionRecurrence, InspectionState
from web.labels import choices_of, register

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

register({InspectionState: STATE_LABELS, InspectionOutcome: OUTCOME_LABELS, InspectionRecurrence: RECURRENCE_LABELS},
         where="web/inspections/labels.py")

STATE_CHOICES = choices_of(InspectionState)
OUTCOME_CHOICES = choices_of(InspectionOutcome)
RECURRENCE_CHOICES = choices_of(InspectionRecurrence)
