from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "groupbill.audit"
    label = "audit"
