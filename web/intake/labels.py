"""Translated labels of the intake's enumerations (the values live in :mod:`linewatch.choices`), registered with
:mod:`web.labels`; importing this module fails if a value has none."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from linewatch.choices import IntakeOutcome, IntakeSourceKind
from web.labels import choices_of, register

LABELS: dict[type[Enum], dict[Enum, Promise]] = {
    IntakeSourceKind: {
        IntakeSourceKind.FOLDER: pgettext_lazy("intake source", "Drop folder"),
        IntakeSourceKind.IMAP: pgettext_lazy("intake source", "Mailbox"),
        IntakeSourceKind.UPLOAD: pgettext_lazy("intake source", "Uploaded"),
    },
    IntakeOutcome: {
        IntakeOutcome.IMPORTED: pgettext_lazy("intake outcome", "Imported"),
        IntakeOutcome.QUARANTINED: pgettext_lazy("intake outcome", "Rows quarantined"),
        IntakeOutcome.DUPLICATE: pgettext_lazy("intake outcome", "Duplicate"),
        IntakeOutcome.REJECTED: pgettext_lazy("intake outcome", "Rejected"),
        IntakeOutcome.ERROR: pgettext_lazy("intake outcome", "Error"),
    },
}
OUTCOME_COLOURS: dict[IntakeOutcome, str] = {
    IntakeOutcome.IMPORTED: "green", IntakeOutcome.QUARANTINED: "orange", IntakeOutcome.DUPLICATE: "grey",
    IntakeOutcome.REJECTED: "red", IntakeOutcome.ERROR: "red",
}

register(LABELS, where="web/intake/labels.py")
SOURCE_CHOICES = choices_of(IntakeSourceKind)
OUTCOME_CHOICES = choices_of(IntakeOutcome)
