"""The development settings plus the test app (``DJANGO_SETTINGS_MODULE=report_worker_app.settings``)."""

from web.settings import *
from web.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "report_worker_app"]
