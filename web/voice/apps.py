from typing import ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "web.voice"
    label = "voice"
    verbose_name = _("Voice")
    # Run by linewatch_worker (web/notify): dotted path, interval in seconds.
    linewatch_jobs: ClassVar[list[tuple[str, int]]] = []
