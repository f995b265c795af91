import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from groupbill.automation import engine
from groupbill.automation.engine import AsOf
from groupbill.notices import sender

log = logging.getLogger("groupbill.scheduler")


class Command(BaseCommand):
    help = (
        "Run the engine every five minutes (a tick is skipped while a run is still going), "
        "carry out runs started from the API or the Automation page, and deliver the outbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=300.0, help="Seconds between ticks.")
        parser.add_argument("--ticks", type=int, default=0, help="Stop after N ticks (0: never).")

    def handle(self, *args, interval: float, ticks: int, **options):
        stopping = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        self.stdout.write(f"Scheduler: running the engine every {interval:g} s (Ctrl-C stops).")
        count = 0
        while not stopping:
            started = time.monotonic()
            self.tick()
            count += 1
            if ticks and count >= ticks:
                break
            while not stopping and time.monotonic() - started < interval:
                self.work_queued()
                time.sleep(min(1.0, interval))

    def tick(self) -> None:
        close_old_connections()
        self.run_engine()
        try:
            summary = sender.deliver(timezone.now())
        except Exception:  # keep ticking; messages stay in the outbox
            log.exception("delivering the outbox failed")
            self.stderr.write(f"{timezone.now():%H:%M:%S} delivering the outbox failed")
            return
        self.stdout.write(f"{timezone.now():%H:%M:%S} outbox: {summary}")

    def work_queued(self) -> None:
        """Runs queued from the API or the Automation page (and shards left by a process
        that died) are carried out here, between ticks."""
        close_old_connections()
        try:
            if engine.work_queued():
                self.stdout.write(f"{timezone.now():%H:%M:%S} carried out queued work")
        except Exception:  # keep going; the run and its shards record the error
            log.exception("queued work failed")

    def run_engine(self) -> None:
        active = engine.active_run()
        if active is not None:
            self.stdout.write(f"{timezone.now():%H:%M:%S} skipped: run #{active.pk} is going")
            return
        try:
            record = engine.start(as_of=AsOf(moment=timezone.now()), actor="scheduler")
            doc = engine.run(record)
        except Exception:  # keep ticking; the run record holds the error
            log.exception("engine run failed")
            self.stderr.write(f"{timezone.now():%H:%M:%S} run failed, see the Automation page")
            return
        done = sum(t["applied"] for t in doc["tasks"])
        failed = sum(t["failed"] for t in doc["tasks"])
        self.stdout.write(
            f"{timezone.now():%H:%M:%S} run #{record.pk}: {done} applied, {failed} failed"
        )
