from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "groupbill.clients"
    label = "clients"
