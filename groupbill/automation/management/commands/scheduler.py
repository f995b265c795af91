import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from groupbill.automation import engine, locks
from groupbill.automation.engine import AsOf
from groupbill.notices import sender

log = logging.getLogger("groupbill.scheduler")


class Command(BaseCommand):
    help = "Run the engine every five minutes; a tick is skipped while a run is still going."

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

    def run_engine(self) -> None:
        holder = locks.current_holder()
        if holder is not None:
            self.stdout.write(f"{timezone.now():%H:%M:%S} skipped: run #{holder.pk} is still going")
            return
        as_of = AsOf(moment=timezone.now())
        try:
            record = engine.start(as_of=as_of, actor="scheduler")
            doc = engine.run(record, as_of, wait=0)
        except locks.LockHeld as exc:
            self.stdout.write(f"{timezone.now():%H:%M:%S} skipped: {exc}")
            return
        except Exception:  # keep ticking; the run record holds the error
            log.exception("engine run failed")
            self.stderr.write(f"{timezone.now():%H:%M:%S} run failed, see the Automation page")
            return
        done = sum(t["applied"] for t in doc["tasks"])
        failed = sum(t["failed"] for t in doc["tasks"])
        self.stdout.write(
            f"{timezone.now():%H:%M:%S} run #{record.pk}: {done} applied, {failed} failed"
        )
