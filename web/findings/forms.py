"""The findings' forms: a suppression rule, and the inputs of the dispute moves (the rules are the services')."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from linewatch.choices import DisputeOutcome, Language
from web.findings.labels import choices_of
from web.findings.models import SuppressionRule

MONEY = {"max_digits": 14, "decimal_places": 4}


class DateInput(forms.DateInput):
    input_type = "date"


class SuppressionRuleForm(forms.ModelForm):
    class Meta:
        model = SuppressionRule
        fields = ("rule", "carrier", "line", "circuit_id", "max_amount", "currency", "reason", "expires_on")
        widgets: ClassVar[dict[str, forms.Widget]] = {"expires_on": DateInput(), "reason": forms.Textarea(attrs={"rows": 3})}


class AcceptForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("why the charge is right"))


class OpenDisputeForm(forms.Form):
    claimed_amount = forms.DecimalField(label=_("claimed"), required=False, **MONEY,
                                        help_text=_("empty: the sum of the findings' recoverable amounts"))
    language = forms.ChoiceField(label=_("language"), required=False,
                                 choices=[("", _("the carrier's template, else the application's"))]
                                 + [(x.value, x.value) for x in Language])


class AnswerForm(forms.Form):
    reference = forms.CharField(label=_("carrier's reference"), max_length=128, required=False)
    answer = forms.CharField(label=_("carrier's answer"), widget=forms.Textarea(attrs={"rows": 3}))


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=choices_of(DisputeOutcome))
    recovered_amount = forms.DecimalField(label=_("recovered"), min_value=0, **MONEY)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}))


MOVE_FORMS: dict[str, type[forms.Form]] = {
    "accept": AcceptForm, "answer": AnswerForm, "resolve_dispute": ResolveForm}
