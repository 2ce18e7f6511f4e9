"""Invoices collected from a drop folder and an IMAP mailbox (issue 12)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "web.intake"
    label = "intake"
    verbose_name = _("Invoice intake")

    @property
    def linewatch_jobs(self) -> list[tuple[str, int]]:
        """Run by linewatch_worker (web/notify): the folder and the mailbox every ``intake.interval_s``."""
        from django.conf import settings

        return [("web.intake.jobs:collect", settings.LINEWATCH.intake.interval_s)]
