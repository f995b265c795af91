"""What `run` and `simulate` share: argument parsing, exit codes, summaries."""

import os
import sys

from django.core.management.base import CommandError

from groupbill.automation import engine, locks
from groupbill.errors import ValidationFailed

EXIT_OK, EXIT_FAILED, EXIT_BAD_ARGS, EXIT_BUSY = 0, 1, 2, 75


class Exit(SystemExit):
    pass


def bad_args(message: str) -> Exit:
    sys.stderr.write(f"groupbill: {message}\n")
    return Exit(EXIT_BAD_ARGS)


def parse_as_of(text: str) -> engine.AsOf:
    try:
        return engine.AsOf.parse(text)
    except ValidationFailed as exc:
        raise bad_args(f"--as-of {exc.errors[0].message}") from None


def run_once(as_of: engine.AsOf, *, actor: str, company=None, task=None, dry_run=False):
    """One run; returns (document, exit code) or exits 2/75 with a message."""
    try:
        record = engine.start(
            as_of=as_of, actor=actor, company_id=company, task=task, dry_run=dry_run
        )
    except ValidationFailed as exc:
        raise bad_args("; ".join(f"--{e.field}: {e.message}" for e in exc.errors)) from None
    except engine.TimeTravelRefused as exc:
        raise bad_args(str(exc)) from None
    try:
        doc = engine.run(record, as_of, wait=lock_wait())
    except locks.LockHeld as exc:
        sys.stderr.write(f"groupbill: {exc}\n")
        raise Exit(EXIT_BUSY) from None
    failed = any(t["failed"] for t in doc["tasks"])
    return doc, EXIT_FAILED if failed else EXIT_OK


def lock_wait() -> float:
    """How long a run waits for another to finish: 30 s (GROUPBILL_LOCK_WAIT_SECONDS)."""
    return float(os.environ.get("GROUPBILL_LOCK_WAIT_SECONDS", "30"))


def summary_line(doc) -> str:
    parts = [
        f"{t['name']} {t['applied']}/{t['planned']}"
        + (f" ({t['failed']} failed)" if t["failed"] else "")
        for t in doc["tasks"]
        if t["planned"]
    ]
    return ", ".join(parts) or "nothing to do"


__all__ = ["CommandError", "Exit"]
