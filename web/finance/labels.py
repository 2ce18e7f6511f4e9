"""Labels of the finance enumerations, registered with :data:`web.labels.LABELS` (Korean: this app's catalogue)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linewatch.choices import BudgetScope
from web.labels import choices_of, register

SCOPE_LABELS = {BudgetScope.DEPARTMENT: _("Department"), BudgetScope.COST_CENTRE: _("Cost centre")}

register({BudgetScope: SCOPE_LABELS}, where="web/finance/labels.py")

SCOPE_CHOICES = choices_of(BudgetScope)
