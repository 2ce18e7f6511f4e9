from django.apps import AppConfig


class ReportWorkerTestConfig(AppConfig):
    name = "report_worker_app"

    def ready(self) -> None:
        from report_worker_app.reports import register

        register()
