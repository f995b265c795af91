"""Engine runs over the bench book (`python -m bench.book` first), one per day, with the
figures that matter beside their floor.

    python -m bench.run --days 3                  # in this process
    python -m bench.run --days 1 --workers 2      # PostgreSQL: two `groupbill worker`s

Per run: seconds, this process's CPU seconds (on SQLite the database's work too; steadier
than seconds on a busy machine), actions applied, invoices written and invoices per second, queries
(in-process runs), peak memory, and the floor: the same rows the run inserted (invoices,
lines, billed periods, outbox messages, print jobs, audit entries) written again into
scratch tables with the same indexes, with COPY (PostgreSQL) or executemany in one
transaction (SQLite), timed in the same process right after the run; the ratio is run
seconds / floor seconds.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import timedelta

from bench import setup

TABLES = (
    "billing_invoice",
    "billing_invoiceline",
    "services_billedperiod",
    "notices_outboxmessage",
    "notices_printjob",
    "audit_auditentry",
)


class Queries:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _last_ids() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for table in TABLES:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            out[table] = cursor.fetchone()[0]
        return out


def floor(since: dict[str, int]) -> tuple[float, int]:
    """Seconds to write the rows inserted since `since` again, and how many rows."""
    from django.db import connection, transaction

    rows_written, seconds = 0, 0.0
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table} WHERE id > %s ORDER BY id", [since[table]])
            columns = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
            if not rows:
                continue
            scratch = f"floor_{table}"
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            if connection.vendor == "postgresql":
                cursor.execute(f"CREATE TABLE {scratch} (LIKE {table} INCLUDING ALL)")
            else:
                _sqlite_like(cursor, table, scratch)
            names = ", ".join(f'"{c}"' for c in columns)
            started = time.perf_counter()
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(_adapted(row))
                else:
                    marks = ", ".join("?" for _ in columns)
                    cursor.cursor.executemany(
                        f"INSERT INTO {scratch} ({names}) VALUES ({marks})", rows
                    )
            seconds += time.perf_counter() - started
            rows_written += len(rows)
            cursor.execute(f"DROP TABLE {scratch}")
    return seconds, rows_written


def _sqlite_like(cursor, table: str, scratch: str) -> None:
    """An empty copy of the table with its indexes (like PostgreSQL's LIKE ... INCLUDING
    ALL): the floor pays the same index upkeep as the run."""
    cursor.execute(f"CREATE TABLE {scratch} AS SELECT * FROM {table} WHERE 0")
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
        "AND sql IS NOT NULL",
        [table],
    )
    for name, sql in cursor.fetchall():
        cursor.execute(
            sql.replace(f'"{name}"', f'"floor_{name}"').replace(f'"{table}"', f'"{scratch}"')
        )


def _adapted(row: tuple) -> tuple:
    # JSON columns come back as Python values; COPY takes them as JSON text.
    return tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in row)


def peak_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _workers(count: int) -> list[subprocess.Popen]:
    """`count` worker processes, once each has registered with the queue: a run timed
    while they start up would count their start (a second or two) as its own."""
    if not count:
        return []
    from django.db import connection

    def registered_after(since: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM procrastinate_workers WHERE id > %s", [since])
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM procrastinate_workers")
        since = cursor.fetchone()[0]
    workers = [
        subprocess.Popen([sys.executable, "-m", "groupbill.cli", "worker", "--no-schedule"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while registered_after(since) < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            sys.exit("the workers did not start")
        time.sleep(0.1)
    return workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="PostgreSQL: worker processes")
    parser.add_argument("--company", type=int, help="default: the latest bench company")
    args = parser.parse_args()
    setup.django()
    from django.db import connection

    from bench.book import START
    from groupbill.automation import engine, queue
    from groupbill.billing.models import Invoice
    from groupbill.companies.models import Company
    from groupbill.services.models import Service

    company = (
        Company.objects.get(pk=args.company)
        if args.company
        else Company.objects.filter(name__startswith="Bench").latest("pk")
    )
    services = Service.objects.filter(client__company=company).count()
    if args.workers and not queue.available():
        sys.exit("--workers needs PostgreSQL (DATABASE_URL)")
    workers = _workers(args.workers)
    print(f"{setup.where()}: {company.name}, {services} services; "
          f"{args.workers or 'no'} worker process(es)")  # fmt: skip
    print(f"{'day':<10} {'seconds':>8} {'cpu s':>7} {'actions':>8} {'invoices':>9} {'inv/s':>8} "
          f"{'queries':>8} {'peak MB':>8} {'floor s':>8} {'rows':>9} {'ratio':>6}")  # fmt: skip
    try:
        for day in range(args.days):
            as_of = engine.AsOf(day=START + timedelta(days=day))
            since = _last_ids()
            queries = Queries()
            record = engine.start(as_of=as_of, actor="bench", company_id=company.pk)
            started, cpu_started = time.perf_counter(), time.process_time()
            if workers:
                engine.enqueue(record)
                while True:
                    record.refresh_from_db()
                    if record.status in engine.FINAL:
                        break
                    time.sleep(0.2)
                doc = record.result
            else:
                with connection.execute_wrapper(queries):
                    doc = engine.run(record)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            peak = peak_mb()  # before the floor reads the rows back
            invoices = Invoice.objects.filter(pk__gt=since["billing_invoice"]).count()
            actions = sum(t["applied"] for t in doc["tasks"])
            floor_seconds, rows = floor(since)
            setup.analyze()
            ratio = seconds / floor_seconds if floor_seconds else 0
            counted = queries.count if not workers else "-"
            print(f"{as_of!s:<10} {seconds:>8.2f} {cpu:>7.2f} {actions:>8} {invoices:>9} "
                  f"{invoices / seconds:>8.0f} {counted:>8} {peak:>8.0f} "
                  f"{floor_seconds:>8.3f} {rows:>9} {ratio:>6.1f}", flush=True)  # fmt: skip
            busy = [f"{t['name']} {t['applied']} in {t['seconds']:.2f}s"
                    + (f" ({t['batches_one_by_one']} batches one by one!)"
                       if t.get("batches_one_by_one") else "")
                    for t in doc["tasks"] if t["planned"] or t["seconds"] > 0.1]  # fmt: skip
            print(f"{'':<10} {', '.join(busy) or 'nothing due'}", flush=True)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    if workers:
        print(f"peak memory of a worker: {peak_mb(resource.RUSAGE_CHILDREN):.0f} MB")


if __name__ == "__main__":
    main()
