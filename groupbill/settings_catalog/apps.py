from django.apps import AppConfig


class SettingsCatalogConfig(AppConfig):
    name = "groupbill.settings_catalog"
    label = "settings_catalog"
    verbose_name = "Settings catalogue"
