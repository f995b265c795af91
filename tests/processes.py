"""Real operating-system processes against the test database: a served instance (the
`groupbill serve` command), engine runs (`groupbill run`), and a way to kill one with
SIGKILL at a chosen moment. Tests that use them commit their data
(`django_db(transaction=True)`), so the other processes see it."""

import contextlib
import http.client
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from django.db import connection


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    if connection.vendor == "postgresql":
        host = s["HOST"] or "127.0.0.1"
        return f"postgres://{s['USER']}@{host}:{s['PORT'] or 5432}/{s['NAME']}"
    raise RuntimeError(f"no process tests on {connection.vendor}")


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url(), "GROUPBILL_DB_CONN_MAX_AGE": "0"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env | extra


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


def groupbill(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "groupbill.cli", *args],
        env=environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`groupbill ARGS` run to its end in this process's environment (not pointed at the test
    database): for commands that read no data, such as `--version` or `check`."""
    return subprocess.run(
        [sys.executable, "-m", "groupbill.cli", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: no handler, no cleanup, no finally block runs."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


class Served:
    """`groupbill serve` on a free port: the API and pages as a user's client reaches them."""

    def __init__(self, **env: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = groupbill("serve", "--port", str(self.port), **env)

        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.process.stderr.read()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return True
            return False

        wait_until(up, 60, "the server to listen")

    def api(self, method: str, path: str, body: dict | None, key: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            with error:
                body = error.read()
            try:
                return error.code, json.loads(body or b"{}")
            except ValueError:  # a server error's page, not JSON: shown as it came
                return error.code, {"page": body.decode(errors="replace")}

    def api_in_background(self, method: str, path: str, body: dict | None, key: str) -> None:
        """A request the test will cut off by killing the server: its broken connection
        is what the client sees, and expected."""

        def send() -> None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                self.api(method, path, body, key)

        threading.Thread(target=send, daemon=True).start()

    def sign_in(self, username: str, password: str) -> "Browser":
        """A browser signed in to the staff pages through the login form."""
        browser = Browser(self.base)
        status, page = browser.post("/login/", {"username": username, "password": password},
                                    token_from="/login/")  # fmt: skip
        assert status == 200 and "Log out" in page, page[:2000]
        return browser

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill(self.process)
        self.process.stdout.close()
        self.process.stderr.close()


class Browser:
    """Pages of a served instance as a browser reaches them: its cookies (session, CSRF,
    messages) kept, redirects followed."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None):
        self.base, self.jar = base, jar or http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def tab(self) -> "Browser":
        """Another tab of this browser: the same cookies from now on, its own afterwards
        (each tab's messages are its own)."""
        jar = http.cookiejar.CookieJar()
        for cookie in self.jar:
            jar.set_cookie(cookie)
        return Browser(self.base, jar)

    def _open(self, path: str, data: bytes | None) -> tuple[int, str]:
        try:
            with self.opener.open(f"{self.base}{path}", data=data, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()

    def get(self, path: str) -> tuple[int, str]:
        return self._open(path, None)

    def post(self, path: str, fields: dict[str, str], token_from: str | None = None):
        """POST the fields (a form as the page filled it in, CSRF token included; or take
        the token from the page at `token_from`)."""
        if token_from is not None:
            _, page = self.get(token_from)
            token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
            fields = {"csrfmiddlewaretoken": token, **fields}
        return self._open(path, urllib.parse.urlencode(fields).encode())


@contextlib.contextmanager
def served(**env: str):
    server = Served(**env)
    try:
        yield server
    finally:
        server.stop()


def run_engine(as_of: str, *extra: str, **env: str) -> tuple[int, dict, str]:
    """`groupbill run --as-of AS_OF --json` to its end: (exit code, document, stderr)."""
    process = groupbill("run", "--as-of", as_of, "--json", *extra, **env)
    out, err = process.communicate(timeout=300)
    return process.returncode, json.loads(out) if out.strip() else {}, err
