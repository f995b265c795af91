from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "groupbill.billing"
    label = "billing"
