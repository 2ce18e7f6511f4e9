from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "web.budgets"
    label = "budgets"
    verbose_name = _("Budgets")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds.
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = []
