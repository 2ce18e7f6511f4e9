"""Alert evaluator: rules over InfluxDB data, a durable SQLite state and outbox, routing, email and Slack receivers.

See docs/alerting.md. The CLI is ``linewatch alerts …`` (:mod:`alerting.cli`); ``make run`` runs
:func:`alerting.demo.demo_stage`.
"""

from alerting.config import AlertsConfig, check_config, load_alerts
from alerting.service import AlertService, DispatchReport, EvaluationReport
from alerting.store import AlertStore

__all__ = [
    "AlertService",
    "AlertStore",
    "AlertsConfig",
    "DispatchReport",
    "EvaluationReport",
    "check_config",
    "load_alerts",
]
