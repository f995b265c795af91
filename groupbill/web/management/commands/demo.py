from django.core.management.base import BaseCommand

from groupbill.demo import (
    DEMO_CLIENT_LOGIN,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    demo_client_login_works,
    ensure_staff_user,
    is_empty,
    load_demo,
)


class Command(BaseCommand):
    help = (
        "Load the demo book (companies, groups, clients with portal logins) and the demo "
        "staff user."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any company exists."
        )

    def handle(self, *args, if_empty: bool, **options):
        if if_empty and not is_empty():
            self.stdout.write("Database already holds data; demo not loaded.")
        else:
            load_demo()
            self.stdout.write(self.style.SUCCESS("Demo companies, groups and clients loaded."))
        if ensure_staff_user():
            self.stdout.write(f"Demo staff user: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        if demo_client_login_works():
            self.stdout.write(
                f"Demo client (portal, /portal/): {DEMO_CLIENT_LOGIN} / {DEMO_PASSWORD}"
            )
