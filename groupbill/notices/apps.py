from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "groupbill.notices"
    label = "notices"
