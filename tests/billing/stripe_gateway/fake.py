"""localstripe (a fake Stripe API server, `localstripe --port N`) as a subprocess on a free
port, and a small proxy in front of it that the gateway under test talks to.

The proxy forwards every request unchanged, except:

- Idempotency-Key: localstripe ignores it, Stripe does not. The proxy does what Stripe
  documents: a POST sent again with the same key and the same parameters answers the first
  response without reaching the server; with other parameters it is a 400
  `idempotency_error`. So the contract tests check that the gateway sends its key and
  maps the refusal, which localstripe alone cannot show.
- Network faults, by PaymentMethod: `lose(pm)` lets the first PaymentIntent for it reach
  localstripe and drops the answer (a timeout after Stripe acted), then drops the SDK's
  retries before they arrive; `never(pm)` drops every request for it before it arrives;
  `hold(pm)` lets it reach localstripe and keeps the answer back until the test ends
  (the crash test kills the waiting process).
"""

import contextlib
import hashlib
import http.client
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SECRET_KEY = "sk_test_groupbill_tests_0123456789"
PUBLISHABLE_KEY = "pk_test_groupbill_tests"
WEBHOOK_SECRET = "whsec_groupbill_tests_0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def localstripe_command() -> str | None:
    beside = Path(sys.executable).with_name("localstripe")
    return str(beside) if beside.exists() else shutil.which("localstripe")


class LocalStripe:
    """The localstripe process; `start` raises RuntimeError when it cannot run."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = localstripe_command()
        if command is None:
            raise RuntimeError("localstripe is not installed (pip install -e '.[dev]')")
        # --from-scratch: never load the state another localstripe left in /tmp.
        self.process = subprocess.Popen(
            [command, "--port", str(self.port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {self.process.stderr.read()[-2000:]}")
            with contextlib.suppress(OSError):
                self.request("GET", "/v1/customers")
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("localstripe did not answer within 30 seconds")

    def request(self, method: str, path: str) -> bytes:
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"Bearer {SECRET_KEY}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def flush(self) -> None:
        self.request("DELETE", "/_config/data")

    def webhook(self, url: str) -> None:
        """Where localstripe sends its (PaymentIntent) events, signed with WEBHOOK_SECRET."""
        body = urllib.parse.urlencode(
            {"url": url, "secret": WEBHOOK_SECRET, "events[]": "payment_intent.succeeded"}
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/_config/webhooks/groupbill", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Proxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.reset()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        if hasattr(self, "release"):
            self.release.set()  # answers an earlier test held back may go now
        with self.lock:
            self.faults: dict[str, str] = {}
            self.tripped: set[str] = set()
            self.answers: dict[str, tuple[str, int, bytes, str]] = {}
            self.held = threading.Event()
            self.release = threading.Event()

    def lose(self, payment_method: str) -> None:
        self.faults[payment_method] = "lose"

    def never(self, payment_method: str) -> None:
        self.faults[payment_method] = "never"

    def hold(self, payment_method: str) -> None:
        self.faults[payment_method] = "hold"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(proxy: Proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = self._fault(body)
            if fault == "drop":
                self.close_connection = True  # no answer at all: a broken connection
                return
            key = self.headers.get("Idempotency-Key") if self.command == "POST" else None
            fingerprint = hashlib.sha256(self.path.encode() + b"\0" + body).hexdigest()
            if key is not None:
                with proxy.lock:
                    earlier = proxy.answers.get(key)
                if earlier is not None:
                    if earlier[0] != fingerprint:
                        return self._idempotency_error()
                    return self._answer(*earlier[1:])
            status, payload, kind = self._forward(body)
            if key is not None and status < 500:
                with proxy.lock:
                    proxy.answers.setdefault(key, (fingerprint, status, payload, kind))
            if fault == "lose":
                self.close_connection = True
                return
            if fault == "hold":
                proxy.held.set()
                proxy.release.wait(120)
                self.close_connection = True
                return
            self._answer(status, payload, kind)

        def _fault(self, body: bytes) -> str | None:
            if self.command != "POST" or not self.path.startswith("/v1/payment_intents"):
                return None
            fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            method = (fields.get("payment_method") or [None])[0]
            rule = proxy.faults.get(method)
            if rule == "never":
                return "drop"
            if rule in ("lose", "hold"):
                with proxy.lock:
                    if method in proxy.tripped:
                        return "drop"  # the SDK's retry: the network is down now
                    proxy.tripped.add(method)
                return rule
            return None

        def _forward(self, body: bytes) -> tuple[int, bytes, str]:
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            try:
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                kind = response.getheader("Content-Type", "application/json")
                return response.status, payload, kind
            finally:
                upstream.close()

        def _answer(self, status: int, payload: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _idempotency_error(self) -> None:
            self._answer(
                400,
                b'{"error": {"type": "idempotency_error", "message": "Keys for idempotent '
                b"requests can only be used with the same parameters they were first used "
                b'with."}}',
                "application/json",
            )

    return Handler


def environment(proxy_url: str, localstripe_url: str) -> dict[str, str]:
    """The GROUPBILL_STRIPE_* variables of a process that should use this fake."""
    return {
        "GROUPBILL_STRIPE_SECRET_KEY": SECRET_KEY,
        "GROUPBILL_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "GROUPBILL_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GROUPBILL_STRIPE_API_BASE": proxy_url,
        "GROUPBILL_STRIPE_JS_URL": f"{localstripe_url}/js.stripe.com/v3/",
    }
