"""The plan form (the checklist as a text, one item per line) and the perform form (one outcome, note and
"open a ticket" per checklist item)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linewatch.choices import InspectionOutcome
from web.inspections.labels import OUTCOME_CHOICES
from web.inspections.models import Inspection, InspectionPlan, checklist_items
from web.inspections.services import ItemResult


class ChecklistField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 6})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return checklist_items(super().to_python(value) or "")


class PlanForm(forms.ModelForm):
    checklist = ChecklistField(label=_("checklist"), help_text=_("the items to check, in order (one per line)"))

    class Meta:
        model = InspectionPlan
        fields = ("name", "site", "lines", "checklist", "recurrence", "interval_days", "month_day", "next_due",
                  "remind_days", "assignee", "active", "description")
        widgets = {"next_due": forms.DateInput(attrs={"type": "date"})}


class PerformForm(forms.Form):
    """One group of fields per result row: ``outcome_N``, ``note_N``, ``ticket_N`` (N: the item's position)."""

    follow_up = forms.CharField(label=_("follow-up"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_("what needs doing after this inspection"))

    def __init__(self, *args: Any, inspection: Inspection, may_open_tickets: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inspection = inspection
        self.rows = list(inspection.results.all())
        for row in self.rows:
            n = row.position
            self.fields[f"outcome_{n}"] = forms.ChoiceField(label=row.item, choices=OUTCOME_CHOICES,
                                                            widget=forms.RadioSelect)
            self.fields[f"note_{n}"] = forms.CharField(label=_("note"), required=False)
            if may_open_tickets:
                self.fields[f"ticket_{n}"] = forms.BooleanField(
                    label=_("open a fault ticket"), required=False,
                    help_text=_("only for an item that is not OK"))

    def items(self) -> list[dict[str, Any]]:
        """The rows with their bound fields, for the template."""
        return [{"row": row, "outcome": self[f"outcome_{row.position}"], "note": self[f"note_{row.position}"],
                 "ticket": self[f"ticket_{row.position}"] if f"ticket_{row.position}" in self.fields else None}
                for row in self.rows]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for row in self.rows:
            n = row.position
            if data.get(f"ticket_{n}") and data.get(f"outcome_{n}") != InspectionOutcome.NOT_OK:
                self.add_error(f"ticket_{n}", _("a ticket is opened only for a failed item"))
        return data

    def results(self) -> list[ItemResult]:
        data = self.cleaned_data
        return [ItemResult(position=row.position, outcome=InspectionOutcome(data[f"outcome_{row.position}"]),
                           note=data.get(f"note_{row.position}", ""),
                           open_ticket=bool(data.get(f"ticket_{row.position}")))
                for row in self.rows]
