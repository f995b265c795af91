from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "groupbill.notices"
    label = "notices"

    def ready(self) -> None:
        from groupbill.notices import receivers, webhook_receivers

        receivers.connect()
        webhook_receivers.connect()
