"""The engine's lease lock: one run at a time. A second run waits (30 s by default), then
gives up naming the run that holds it. A run killed without releasing leaves a heartbeat
that goes stale, and the next run takes the lock over: at once when the holder was a
process on the same host that is gone."""

import os
import socket
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from groupbill.automation.models import EngineLock, EngineRun

LOCK = "engine"
STALE_AFTER = timedelta(minutes=5)


class LockHeld(Exception):
    def __init__(self, holder: EngineRun | None):
        self.holder = holder
        if holder is not None and holder.started_at is not None:
            what = (
                f"run #{holder.pk} (as of {holder.as_of.isoformat()}, started by "
                f"{holder.actor} at {holder.started_at:%Y-%m-%d %H:%M:%S} UTC)"
            )
        else:
            what = "another run"
        super().__init__(f"The engine is busy: {what} holds the lock.")


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _gone(holder: str) -> bool:
    """Whether the holder is a process of this host that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _try(run: EngineRun) -> EngineRun | None:
    """Take the lock for `run`; return the holding run when someone else has it."""
    now, me = timezone.now(), _this_process()
    with transaction.atomic():
        lock = EngineLock.objects.select_for_update().filter(name=LOCK).first()
        if lock is None:
            EngineLock.objects.create(
                name=LOCK, run=run, acquired_at=now, heartbeat_at=now, holder=me
            )
            return None
        if (
            lock.run_id in (None, run.pk)
            or lock.heartbeat_at < now - STALE_AFTER
            or _gone(lock.holder)
        ):
            lock.run, lock.acquired_at, lock.heartbeat_at, lock.holder = run, now, now, me
            lock.save()
            return None
        return EngineRun.objects.filter(pk=lock.run_id).first() or run


def acquire(run: EngineRun, wait_seconds: float = 30.0, poll: float = 0.5) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            holder = _try(run)
        except IntegrityError:  # two first-ever runs created the row at once
            holder = None if EngineLock.objects.filter(name=LOCK, run=run).exists() else run
        if holder is None:
            return
        if time.monotonic() >= deadline:
            raise LockHeld(holder if holder.pk != run.pk else None)
        time.sleep(poll)


def current_holder() -> EngineRun | None:
    """The run holding the engine now (not stale), if any."""
    lock = EngineLock.objects.filter(name=LOCK, run__isnull=False).select_related("run").first()
    if lock is None or lock.heartbeat_at < timezone.now() - STALE_AFTER:
        return None
    return lock.run


def heartbeat(run: EngineRun) -> None:
    EngineLock.objects.filter(name=LOCK, run=run).update(heartbeat_at=timezone.now())


def release(run: EngineRun) -> None:
    EngineLock.objects.filter(name=LOCK, run=run).update(run=None)
