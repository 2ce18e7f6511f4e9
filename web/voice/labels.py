"""Labels of the voice enumerations, registered with :data:`web.labels.LABELS` (Korean: this app's catalogue)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linewatch.choices import CallDirection, CallOutcome, DestinationClass
from web.labels import choices_of, register

register({
    CallDirection: {CallDirection.INBOUND: _("Inbound"), CallDirection.OUTBOUND: _("Outbound"),
                    CallDirection.INTERNAL: _("Internal")},
    DestinationClass: {DestinationClass.LOCAL: _("Local"), DestinationClass.NATIONAL: _("National"),
                       DestinationClass.MOBILE: _("Mobile"), DestinationClass.INTERNATIONAL: _("International"),
                       DestinationClass.PREMIUM: _("Premium"), DestinationClass.EMERGENCY: _("Emergency"),
                       DestinationClass.TOLL_FREE: _("Toll-free"), DestinationClass.UNKNOWN: _("Unknown")},
    CallOutcome: {CallOutcome.ANSWERED: _("Answered"), CallOutcome.BLOCKED: _("Blocked"),
                  CallOutcome.BUSY: _("Busy"), CallOutcome.NO_ANSWER: _("No answer"),
                  CallOutcome.FAILED: _("Failed")},
}, where="web/voice/labels.py")

DIRECTION_CHOICES = choices_of(CallDirection)
CLASS_CHOICES = choices_of(DestinationClass)
OUTCOME_CHOICES = choices_of(CallOutcome)
