"""Previews on SQLite run against a snapshot, never inside the live database: a dry run
holds its transaction (on SQLite: the database's write lock) until it rolls back, which
for a preview of many days blocked every writer, the API's authentication included.
The snapshot is made with SQLite's backup API (readers and writers go on meanwhile), and
the preview runs there in a process of its own; only its result comes back.

PostgreSQL needs none of this: there a preview runs a batch of clients at a time, each
batch in a transaction rolled back at its end (`engine.previewed`), so the rows it locks
are held for a moment."""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from django.db import connection

IN_SNAPSHOT = "GROUPBILL_IN_SNAPSHOT"


class SnapshotFailed(RuntimeError):
    pass


def wanted() -> bool:
    """On SQLite, outside any transaction (inside one, the caller's own uncommitted view of
    the book is what a preview must see), and not already in a snapshot."""
    return (
        connection.vendor == "sqlite"
        and not connection.in_atomic_block
        and os.environ.get(IN_SNAPSHOT) != "1"
    )


def documents(*args: str) -> list[dict]:
    """Run `groupbill ARGS` (which prints JSON) against a snapshot of the database; the
    JSON documents it printed, one per line or one in all."""
    with tempfile.TemporaryDirectory(prefix="groupbill-snapshot-") as folder:
        path = Path(folder) / "snapshot.sqlite3"
        target = sqlite3.connect(path)
        try:
            connection.ensure_connection()
            connection.connection.backup(target)
        finally:
            target.close()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", IN_SNAPSHOT: "1",
               "GROUPBILL_WORKERS": "0"}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "groupbill.cli", *args],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    out = done.stdout.strip()
    if out.startswith("{") and "\n{" not in out:
        found = [json.loads(out)]
    else:
        found = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    # Exit 1 is a run with failed actions, and also Python's own exit on a crash: only
    # the printed documents tell them apart.
    if done.returncode not in (0, 1) or not found:
        raise SnapshotFailed(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return found
