"""Translated labels of the reports' enumerations (the values live in :mod:`linewatch.choices`), registered with
:mod:`web.labels` (``choices_of``, ``label``); importing this module fails if a value has none."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from linewatch.choices import Language, ReportDeliveryState, ReportPeriodKind
from web.labels import choices_of, register

PERIOD_KIND_LABELS: dict[ReportPeriodKind, Promise] = {
    ReportPeriodKind.MONTH: pgettext_lazy("report period", "Monthly"),
    ReportPeriodKind.WEEK: pgettext_lazy("report period", "Weekly"),
}
DELIVERY_STATE_LABELS: dict[ReportDeliveryState, Promise] = {
    ReportDeliveryState.RENDERED: pgettext_lazy("report delivery", "Queued"),
    ReportDeliveryState.SENT: pgettext_lazy("report delivery", "Sent"),
    ReportDeliveryState.FAILED: pgettext_lazy("report delivery", "Failed"),
}
DELIVERY_STATE_COLOURS: dict[ReportDeliveryState, str] = {
    ReportDeliveryState.RENDERED: "blue", ReportDeliveryState.SENT: "green", ReportDeliveryState.FAILED: "red",
}
# Each language named in itself (a Korean reader looks for 한국어 in an English page too).
LANGUAGE_LABELS: dict[Language, Promise | str] = {Language.EN: "English", Language.KO: "한국어"}

register({ReportPeriodKind: PERIOD_KIND_LABELS, ReportDeliveryState: DELIVERY_STATE_LABELS},
         where="web/reports/labels.py")

PERIOD_KIND_CHOICES = choices_of(ReportPeriodKind)
DELIVERY_STATE_CHOICES = choices_of(ReportDeliveryState)
LANGUAGE_CHOICES = [(lang.value, LANGUAGE_LABELS[lang]) for lang in Language]
