from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "web.reports"
    label = "reports"
    verbose_name = _("Reports")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds. The schedules' deliveries
    # (web/reports/delivery.py): each due period once; a run looks only at schedules whose next run has come.
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = [("web.reports.jobs:deliver_reports", 300)]
