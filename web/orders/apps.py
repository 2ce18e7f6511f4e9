from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "web.orders"
    label = "orders"
    verbose_name = _("Orders")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds (contracts §5).
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = [
        ("web.orders.jobs:run_acceptance", 60),
        ("web.orders.jobs:apply_changes", 60),
        ("web.orders.jobs:verify_changes", 300),
        ("web.orders.jobs:complete_terminations", 300),
        ("web.orders.jobs:send_reminders", 300),
    ]
