"""What `run` and `simulate` share: argument parsing, exit codes, summaries, the
progress bar."""

import sys

from django.core.management.base import CommandError

from groupbill.automation import engine
from groupbill.automation.models import RunStatus
from groupbill.errors import ValidationFailed

EXIT_OK, EXIT_FAILED, EXIT_BAD_ARGS = 0, 1, 2


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


def progress_bar(done: int, total: int) -> None:
    """Shards done of the run's shards, on a terminal."""
    if not sys.stderr.isatty() or not total:
        return
    filled = int(30 * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} shards")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_once(
    as_of: engine.AsOf, *, actor: str, company=None, task=None, dry_run=False, progress=True
):
    """One run, carried out here (and by any worker that takes some of its shards);
    returns (document, exit code) or exits 2 with a message."""
    try:
        record = engine.start(
            as_of=as_of, actor=actor, company_id=company, task=task, dry_run=dry_run
        )
    except engine.TimeTravelRefused as exc:
        raise bad_args(exc.message) from None
    except ValidationFailed as exc:
        raise bad_args("; ".join(f"--{e.field}: {e.message}" for e in exc.errors)) from None
    doc = engine.run(record, progress_to=progress_bar if progress else None)
    record.refresh_from_db()
    if record.status == RunStatus.ERROR:
        sys.stderr.write(f"groupbill: run #{record.pk} stopped: {record.error}\n")
    failed = record.status == RunStatus.ERROR or any(t["failed"] for t in doc["tasks"])
    return doc, EXIT_FAILED if failed else EXIT_OK


def summary_line(doc) -> str:
    parts = [
        f"{t['name']} {t['applied']}/{t['planned']}"
        + (f" ({t['failed']} failed)" if t["failed"] else "")
        for t in doc["tasks"]
        if t["planned"]
    ]
    return ", ".join(parts) or "nothing to do"


__all__ = ["CommandError", "Exit"]
