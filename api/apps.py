from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        from api.webhooks import task_ended
        from conversions.models import task_ended as signal

        signal.connect(task_ended, dispatch_uid="api.webhooks")
