"""Schemathesis against a served Groupbill, with all its checks and phases (stateful
included): the API answers only what its OpenAPI document declares.

    python -m tests.api_contract [--max-examples N]

Serves a fresh SQLite database with the demo book on a free port, creates an API key,
runs `schemathesis run`, stops the server and exits with schemathesis's status (0: no
finding). CI runs it once after the test suite (`make api-contract`)."""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_served(url: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in 30 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="groupbill-contract-") as data:
        env = {
            **os.environ,
            "GROUPBILL_DATA_DIR": data,
            # Schemathesis sends wrong keys on purpose (ignored_auth); no pause for them.
            "GROUPBILL_API_KEY_FAILURE_LIMIT": "1000000",
            "GROUPBILL_LOG_LEVEL": "ERROR",
        }
        env.pop("DATABASE_URL", None)
        groupbill = str(BIN / "groupbill")
        subprocess.run([groupbill, "migrate", "--noinput", "-v0"], env=env, check=True)
        subprocess.run([groupbill, "demo", "--if-empty"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        key = subprocess.run(
            [groupbill, "apikey", "create", "--name", "schemathesis"],
            env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        port = _free_port()
        server = subprocess.Popen([groupbill, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            spec = f"http://127.0.0.1:{port}/api/v1/openapi.json"
            _wait_until_served(spec, server)
            command = [
                str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run", spec,
                "--header", f"Authorization: Bearer {key}",
                "--checks", "all",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--max-examples", str(args.max_examples),
                "--workers", str(args.workers),
                "--seed", "20261128",
            ]  # fmt: skip
            hooks = {**env, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks"}
            return subprocess.run(command, env=hooks).returncode
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
