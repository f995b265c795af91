from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "groupbill.audit"
    label = "audit"

    def ready(self):
        # The lowest app registers the kernel's query lookup (`__one_of`) for every app.
        from groupbill import id_lists  # noqa: F401
