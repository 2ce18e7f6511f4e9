"""Forms of the ticket pages; each ends in a service function (web/faults/services.py)."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from linewatch.choices import FaultCause, SlaClaimState
from web.faults.labels import fault_choices
from web.faults.models import Ticket


class TicketForm(forms.ModelForm):
    """The fault report any staff member can file (brief §6.2: type, location, affected service, description)."""

    class Meta:
        model = Ticket
        fields = ("kind", "line", "location", "affected_service", "description", "outage")
        widgets: ClassVar = {"description": forms.Textarea(attrs={"rows": 4})}


class TicketEditForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ("assignee", "carrier_ticket_ref", "outage", "review_note")
        widgets: ClassVar = {"review_note": forms.Textarea(attrs={"rows": 3})}


class ResolveForm(forms.Form):
    cause = forms.ChoiceField(label=_("cause"), choices=fault_choices(FaultCause))
    review_note = forms.CharField(label=_("post-incident review"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    cause = forms.ChoiceField(label=_("cause"), choices=[("", "—"), *fault_choices(FaultCause)], required=False)
    review_note = forms.CharField(label=_("post-incident review"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class ReopenForm(forms.Form):
    text = forms.CharField(label=_("why"), required=False)


class CommentForm(forms.Form):
    text = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}))
    carrier_answer = forms.BooleanField(label=_("this is the carrier's answer"), required=False)
    carrier_ticket_ref = forms.CharField(label=_("carrier ticket number"), required=False, max_length=128)


class ClaimStateForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), choices=fault_choices(SlaClaimState))
    note = forms.CharField(label=_("note"), required=False)


STEP_FORMS: dict[str, type[forms.Form] | None] = {
    "notify_carrier": None, "start_work": None, "resolve": ResolveForm, "close": CloseForm, "reopen": ReopenForm}
