from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditsConfig(AppConfig):
    name = "web.credits"
    label = "credits"
    verbose_name = _("Credits")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds.
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = [("web.credits.jobs:propose_matches", 300)]
