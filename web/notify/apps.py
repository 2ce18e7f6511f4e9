from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "web.notify"
    label = "notify"
    verbose_name = _("Notifications")
    # The worker's jobs (web/notify/worker.py): (dotted "module:function", interval in seconds).
    linewatch_jobs = (("web.notify.jobs:deliver_outbox", 5),)
