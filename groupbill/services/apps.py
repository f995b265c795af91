from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "groupbill.services"
    label = "services"

    def ready(self) -> None:
        from groupbill.billing.signals import invoice_paid
        from groupbill.services.receivers import unsuspend_when_paid

        invoice_paid.connect(unsuspend_when_paid, dispatch_uid="services.unsuspend_when_paid")
