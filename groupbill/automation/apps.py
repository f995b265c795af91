from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "groupbill.automation"
    label = "automation"
