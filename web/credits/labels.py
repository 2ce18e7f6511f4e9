"""Translated labels of the credit matches' state (the values live in :mod:`linewatch.choices`), registered with
:mod:`web.labels`; importing this module fails if a value has none."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from linewatch.choices import CreditMatchState
from web.labels import choices_of, label, register  # noqa: F401  (re-exported for the credits' modules)

LABELS: dict[type[Enum], dict[Enum, Promise]] = {
    CreditMatchState: {
        CreditMatchState.PROPOSED: pgettext_lazy("credit match state", "Proposed"),
        CreditMatchState.CONFIRMED: pgettext_lazy("credit match state", "Confirmed"),
        CreditMatchState.REJECTED: pgettext_lazy("credit match state", "Rejected"),
    },
}

register(LABELS, where="web/credits/labels.py")
