from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "web.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from web.audit import signals  # noqa: F401  (connects the change-logging receivers)
