"""The extension form, the directory's CSV import form and the calls' filter form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linewatch.choices import LineType
from linewatch.voice.directory import COLUMNS
from web.inventory.forms import DateInput
from web.inventory.models import Line
from web.voice.labels import CLASS_CHOICES, DIRECTION_CHOICES, OUTCOME_CHOICES
from web.voice.models import Extension

_ANY = [("", _("Any"))]


class ExtensionForm(forms.ModelForm):
    class Meta:
        model = Extension
        fields = ("number", "department", "name", "cost_centre", "description")


class ExtensionImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("columns %(columns)s") % {"columns": ", ".join(COLUMNS)})
    replace = forms.BooleanField(label=_("Remove the extensions the file does not list"), required=False)


def voice_lines() -> Any:
    return Line.objects.filter(type=LineType.VOICE_TRUNK).select_related("carrier").order_by("name")


class CallFilterForm(forms.Form):
    """The calls page's filters (GET); every field optional, ``day`` today by default (the view's)."""

    line = forms.ModelChoiceField(label=_("Line"), queryset=Line.objects.none(), required=False,
                                  to_field_name="name", empty_label=_("Every voice line"))
    day = forms.DateField(label=_("Day"), required=False, widget=DateInput())
    direction = forms.ChoiceField(label=_("Direction"), choices=_ANY + DIRECTION_CHOICES, required=False)
    dest_class = forms.ChoiceField(label=_("Destination class"), choices=_ANY + CLASS_CHOICES, required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=_ANY + OUTCOME_CHOICES, required=False)
    number = forms.CharField(label=_("Number"), required=False, max_length=64,
                             help_text=_("part of the caller, callee or extension"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = voice_lines()
