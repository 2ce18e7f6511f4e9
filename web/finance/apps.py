from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "web.finance"
    label = "finance"
    verbose_name = _("Finance")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds.
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = [("web.finance.jobs:write_kpis", 300)]
