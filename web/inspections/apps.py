from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "web.inspections"
    label = "inspections"
    verbose_name = _("Inspections")
    # The worker's periodic jobs (contracts §5: dotted path, interval in seconds). The fault figures and the open
    # incidents for Grafana (web/faults/figures_influx.py) are registered here too, with the inspections' owner.
    linewatch_jobs = (
        ("web.inspections.jobs:run", 900),
        ("web.faults.figures_influx:write_figures", 300),
        ("web.faults.figures_influx:write_open_incidents", 60),
    )
