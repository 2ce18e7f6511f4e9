"""Fault tickets from alert to carrier to root cause (brief §6)."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaultsConfig(AppConfig):
    name = "web.faults"
    label = "faults"
    verbose_name = _("Faults")
    # contracts §5: periodic jobs of the worker (dotted path, interval in seconds)
    linewatch_jobs = (("web.faults.jobs:escalate_overdue", 300),)
