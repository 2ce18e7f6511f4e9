from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaultsConfig(AppConfig):
    name = "web.faults"
    label = "faults"
    verbose_name = _("Faults")
