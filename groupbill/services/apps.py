from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "groupbill.services"
    label = "services"
