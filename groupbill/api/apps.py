from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "groupbill.api"
    label = "api"
    verbose_name = "REST API"
