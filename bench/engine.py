"""Engine benchmark: a generated book simulated day by day.

    .venv/bin/python bench/engine.py [--clients 10000] [--days 31]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/engine.py

Prints, per simulated day and in total: actions applied, services processed per second,
and the queries per run (planning and applying), so set-based planning can be checked:
planning queries must not grow with the number of clients.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groupbill.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["GROUPBILL_DATA_DIR"] = tempfile.mkdtemp(prefix="groupbill-bench-")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.book import build  # noqa: E402
from groupbill.automation import engine  # noqa: E402
from groupbill.automation.engine import AsOf  # noqa: E402
from groupbill.automation.tasks import TASKS  # noqa: E402
from groupbill.services.models import Service  # noqa: E402

START = date(2027, 3, 1)


class QueryCounter:
    """Counts every query (an execute wrapper: no log, no cap), and those issued while a
    task plans."""

    def __init__(self):
        self.total = self.planning = 0
        self._planning = False

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        self.planning += self._planning
        return execute(sql, params, many, context)

    def wrap(self, task):
        original = task.plan

        def plan(view):
            self._planning = True
            try:
                return original(view)
            finally:
                self._planning = False

        task.plan = plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=31)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; building {args.clients} clients ...", flush=True)
    t0 = time.perf_counter()
    company = build(args.clients, START)
    services = Service.objects.filter(client__company=company).count()
    print(
        f"book: {args.clients} clients, {services} services, 5 groups "
        f"({time.perf_counter() - t0:.1f} s to build)",
        flush=True,
    )
    counter = QueryCounter()
    for task in TASKS:
        counter.wrap(task)
    total_seconds = total_actions = total_queries = 0
    with connection.execute_wrapper(counter):
        for day in range(args.days):
            as_of = AsOf(day=START + timedelta(days=day))
            queries, planning = counter.total, counter.planning
            started = time.perf_counter()
            reports = engine.execute(as_of, companies=[company], tasks=TASKS)
            seconds = time.perf_counter() - started
            queries, planning = counter.total - queries, counter.planning - planning
            applied = sum(r.applied for r in reports)
            failed = sum(r.failed for r in reports)
            total_seconds += seconds
            total_actions += applied
            total_queries += queries
            print(
                f"{as_of}  {applied:>6} applied {failed:>4} failed  {seconds:>7.2f} s  "
                f"{services / seconds:>9.0f} services/s  {queries:>7} queries "
                f"({planning} planning)",
                flush=True,
            )
    print(
        f"total: {args.days} days, {total_actions} actions, {total_seconds:.1f} s, "
        f"{services * args.days / total_seconds:.0f} services processed/s, "
        f"{total_queries / args.days:.0f} queries per run on average"
    )


if __name__ == "__main__":
    main()
