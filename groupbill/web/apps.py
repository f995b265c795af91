from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "groupbill.web"
    label = "web"
