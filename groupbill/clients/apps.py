from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "groupbill.clients"
    label = "clients"

    def ready(self) -> None:
        from groupbill.clients.receivers import create_default_group
        from groupbill.companies.signals import company_created

        company_created.connect(create_default_group, dispatch_uid="clients.default_group")
