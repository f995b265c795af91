from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "groupbill.catalog"
    label = "catalog"
