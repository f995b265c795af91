from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "groupbill.importers"
    label = "importers"
