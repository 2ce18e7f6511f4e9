"""The budget form and the budgets' CSV import form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from web.finance.models import Budget


class BudgetForm(forms.ModelForm):
    class Meta:
        model = Budget
        fields = ("scope", "department", "cost_centre", "year", "month", "amount", "currency", "note")


class BudgetImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "columns department or cost_centre, year, month (empty: the whole year), amount, currency, note"))
