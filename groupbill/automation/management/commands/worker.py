import os
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from groupbill.automation import engine, queue

# Seconds a worker keeps a database connection from job to job (unless
# GROUPBILL_DB_CONN_MAX_AGE says otherwise): with a connection per job, each shard began
# on a new server backend with cold caches, ~50 ms between two shards of a run.
KEEP_CONNECTIONS = 600


def keep_connections() -> None:
    if "GROUPBILL_DB_CONN_MAX_AGE" in os.environ:
        return
    for database in settings.DATABASES.values():
        # Checked before each job's first query: a connection the server dropped while
        # the worker waited is replaced, not failed on.
        database.update(CONN_MAX_AGE=KEEP_CONNECTIONS, CONN_HEALTH_CHECKS=True)


class Command(BaseCommand):
    help = (
        "Work the engine's queue: run shards of runs started anywhere, the five-minute tick "
        "and outbox delivery. On PostgreSQL, start any number of workers on any machines "
        "that share the database; each shard runs once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency", type=int, default=1, help="Jobs at once in this process."
        )
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="Stop once there is nothing left to do (for scripts and tests; no schedule).",
        )
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="Only run shards and runs: defer no five-minute tick or outbox delivery.",
        )

    def handle(self, *args, concurrency: int, until_idle: bool, no_schedule: bool, **options):
        if not queue.available():
            self.work_here(until_idle)
            return
        from procrastinate.contrib.django import app
        from procrastinate.periodic import PeriodicRegistry

        from groupbill.automation import jobs

        self.stdout.write(f"Worker: queue {jobs.QUEUE!r}, {concurrency} at once (Ctrl-C stops).")
        keep_connections()
        with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
            if until_idle or no_schedule:
                worker_app.periodic_registry = PeriodicRegistry()
            worker_app.run_worker(
                queues=[jobs.QUEUE],
                concurrency=concurrency,
                wait=not until_idle,
                listen_notify=not until_idle,
                delete_jobs="successful",
            )

    def work_here(self, until_idle: bool) -> None:
        """Without procrastinate (SQLite): claim queued runs and shards in this process."""
        stopping = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        self.stdout.write("Worker: claiming queued runs and shards (Ctrl-C stops).")
        while not stopping:
            close_old_connections()
            done = engine.work_queued()
            if done:
                self.stdout.write(f"ran {done} shard(s)")
            elif until_idle:
                return
            time.sleep(0 if done else 1.0)
