"""Carrier invoices: states from received to paid, approval, payments calendar, accounts-payable export (issue 12)."""
from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

REMINDER_INTERVAL_S = 3600


class InvoicesConfig(AppConfig):
    name = "web.invoices"
    label = "invoices"
    verbose_name = _("Invoices")

    @property
    def linewatch_jobs(self) -> list[tuple[str, int]]:
        """Run by linewatch_worker (web/notify): dotted path, interval in seconds (the audit's from the settings)."""
        return [
            ("web.invoices.jobs:sync_and_audit", settings.LINEWATCH.finance.audit_interval_s),
            ("web.invoices.jobs:send_payment_reminders", REMINDER_INTERVAL_S),
        ]
