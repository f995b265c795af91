from django.core.management import call_command
from django.core.management.base import BaseCommand

from groupbill.demo import (
    DEMO_CLIENT_LOGIN,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    demo_client_login_works,
    demo_login_works,
)


class Command(BaseCommand):
    help = "Serve the admin UI, the client portal and the API on 127.0.0.1 (for local use)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port: int, host: str, **options):
        base = f"http://{host}:{port}"
        lines = [
            "",
            f"  Groupbill is starting on {base}/",
            f"  Log in at  {base}/login/",
        ]
        if demo_login_works():
            lines.append(f"  Demo staff: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        lines.append(f"  Portal at  {base}/portal/  (where clients sign in)")
        if demo_client_login_works():
            lines.append(f"  Demo client: {DEMO_CLIENT_LOGIN} / {DEMO_PASSWORD}")
        lines += [
            f"  API docs   {base}/api/v1/docs  (key: groupbill apikey create --name NAME)",
            "",
        ]
        self.stdout.write("\n".join(lines))
        call_command("runserver", f"{host}:{port}", use_reloader=False)
