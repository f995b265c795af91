from django.apps import AppConfig


def _required_contact_fields(group_id: int) -> list[str]:
    from groupbill.settings_catalog.resolver import resolve_group

    return resolve_group(group_id)["required_contact_fields"].value


class SettingsCatalogConfig(AppConfig):
    name = "groupbill.settings_catalog"
    label = "settings_catalog"
    verbose_name = "Settings catalogue"

    def ready(self) -> None:
        from groupbill.clients import required_fields

        required_fields.read_with(_required_contact_fields)
