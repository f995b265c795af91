import socket
import threading
import time

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
            f"  Groupbill is running on {base}/",
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
        # The banner comes last: once the server answers, after runserver's own lines and
        # the demo's mail (one line each), so the sign-in is the last thing on the screen.
        stopped = threading.Event()
        banner = threading.Thread(
            target=self._banner_when_listening, args=(host, port, "\n".join(lines), stopped)
        )
        banner.start()
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            stopped.set()
            banner.join()

    def _banner_when_listening(self, host: str, port: int, banner: str, stopped) -> None:
        """Waits until the port answers (at most 30 s) or the server stopped, then writes
        the banner."""
        deadline = time.monotonic() + 30
        while not stopped.is_set() and time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=1):
                    break
            except OSError:
                stopped.wait(0.1)
        self.stdout.write(banner)
