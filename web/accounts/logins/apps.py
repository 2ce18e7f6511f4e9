from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoginsConfig(AppConfig):
    name = "web.accounts.logins"
    label = "logins"
    verbose_name = _("Logins")

    def ready(self) -> None:
        from web.accounts import middleware  # noqa: F401  (login time for the session cap)
        from web.accounts.logins import signals  # noqa: F401  (connects the receivers)
