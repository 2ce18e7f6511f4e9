from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    name = "web.invoices"
    label = "invoices"
    verbose_name = _("Invoices")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds.
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = []
