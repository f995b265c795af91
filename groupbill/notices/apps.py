from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "groupbill.notices"
    label = "notices"

    def ready(self) -> None:
        from groupbill.notices import receivers

        receivers.connect()
