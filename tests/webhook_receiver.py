"""A webhook receiver on 127.0.0.1 for module tests, and the `deliver` command's run."""

import io
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management import call_command


def deliver() -> str:
    """What `groupbill deliver` says when it runs now."""
    out = io.StringIO()
    call_command("deliver", "--now", datetime.now(UTC).isoformat(), stdout=out)
    return out.getvalue()


class Receiver:
    """A webhook receiver on 127.0.0.1 that records every request and answers `status`
    (after waiting for `release` when `hold` is set); `statuses`, while not empty, gives
    the answers to the next requests first (e.g. [500, 503]: fails twice, then `status`)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.statuses: list[int] = []
        self.hold = False
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {"path": self.path, "headers": self.headers, "body": self.rfile.read(length)}
                )
                if receiver.hold:
                    receiver.release.wait(10)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "14")
                    self.end_headers()
                    self.wfile.write(b"receiver says\n")
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
