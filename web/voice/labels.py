"""Labels of the voice enumerations, registered with :data:`web.labels.LABELS` (Korean: this app's catalogue). Each
has a context, so another app's "Outbound" or "Local" (a traffic direction, a site) keeps its own translation."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from linewatch.choices import CallDirection, CallOutcome, DestinationClass
from web.labels import choices_of, register

register({
    CallDirection: {
        CallDirection.INBOUND: pgettext_lazy("call direction", "Inbound"),
        CallDirection.OUTBOUND: pgettext_lazy("call direction", "Outbound"),
        CallDirection.INTERNAL: pgettext_lazy("call direction", "Internal"),
    },
    DestinationClass: {
        DestinationClass.LOCAL: pgettext_lazy("destination class", "Local"),
        DestinationClass.NATIONAL: pgettext_lazy("destination class", "National"),
        DestinationClass.MOBILE: pgettext_lazy("destination class", "Mobile"),
        DestinationClass.INTERNATIONAL: pgettext_lazy("destination class", "International"),
        DestinationClass.PREMIUM: pgettext_lazy("destination class", "Premium"),
        DestinationClass.EMERGENCY: pgettext_lazy("destination class", "Emergency"),
        DestinationClass.TOLL_FREE: pgettext_lazy("destination class", "Toll-free"),
        DestinationClass.UNKNOWN: pgettext_lazy("destination class", "Unknown"),
    },
    CallOutcome: {
        CallOutcome.ANSWERED: pgettext_lazy("call outcome", "Answered"),
        CallOutcome.BLOCKED: pgettext_lazy("call outcome", "Blocked"),
        CallOutcome.BUSY: pgettext_lazy("call outcome", "Busy"),
        CallOutcome.NO_ANSWER: pgettext_lazy("call outcome", "No answer"),
        CallOutcome.FAILED: pgettext_lazy("call outcome", "Failed"),
    },
}, where="web/voice/labels.py")

DIRECTION_CHOICES = choices_of(CallDirection)
CLASS_CHOICES = choices_of(DestinationClass)
OUTCOME_CHOICES = choices_of(CallOutcome)
