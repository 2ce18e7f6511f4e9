from django.apps import AppConfig


class NotifyWorkerTestConfig(AppConfig):
    name = "notify_worker_app"
    linewatch_jobs = (("notify_worker_app.jobs:slow_job", 60),)
