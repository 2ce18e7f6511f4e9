from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "web.reports"
    label = "reports"
    verbose_name = _("Reports")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds (the schedules add theirs).
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = []
