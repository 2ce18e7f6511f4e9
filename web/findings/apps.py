from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FindingsConfig(AppConfig):
    name = "web.findings"
    label = "findings"
    verbose_name = _("Findings and disputes")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds.
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = [("web.findings.jobs:send_reminders", 3600)]
