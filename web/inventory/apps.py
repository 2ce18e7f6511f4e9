from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "web.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        from web.inventory import signals  # noqa: F401  (connects the change log of a window's lines)
