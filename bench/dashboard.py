"""The company dashboard over a large book: seconds per request and queries, beside the
goal (under 1 s with a number of queries that does not grow with the book).

The book is bench.book's (three services a client, in EUR, USD or GBP) plus a ledger
written in bulk: per client, one invoice a month for the last --months months (taxed
lines, the older ones paid by a payment on their due day, the last two open: so the
ageing buckets, the income chart and MRR all have rows to aggregate), and a declined
charge for one client in ten.

    python -m bench.dashboard --clients 33334        # 100,002 services; builds once
    python -m bench.dashboard --clients 33334 --runs 10
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python -m bench.dashboard

Use a database of its own (DATABASE_URL): the book's company is named "Bench N dashboard"
and engine benchmarks run over every company of theirs.

The dashboard is requested through Django's test client as a signed-in staff user (the
view, its queries and its template); the first request warms caches and is not counted.
"""

import argparse
import os
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from bench import setup

GOAL_SECONDS = 1.0


class Queries:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _ledger(company, months: int) -> int:
    """Invoices, lines and payments for every client of the company; returns invoices."""
    from dateutil.relativedelta import relativedelta
    from django.db import transaction

    from groupbill.billing.models import Invoice, InvoiceLine, Transaction
    from groupbill.clients.models import Client
    from groupbill.companies.queries import company_today

    today = company_today(company)
    tz = ZoneInfo(company.timezone)
    clients = list(Client.objects.filter(company=company).values_list("pk", "default_currency"))
    number = 0
    batch = 2000
    for first in range(0, len(clients), batch):
        invoices, payments = [], []
        for pk, currency in clients[first : first + batch]:
            for m in range(months, 0, -1):
                issued = today - relativedelta(months=m - 1) - timedelta(days=pk % 28)
                due = issued + timedelta(days=14)
                paid = m > 2 or (m == 2 and pk % 10 != 0)
                number += 1
                invoices.append(Invoice(
                    company=company, client_id=pk, currency=currency, number=number,
                    status="paid" if paid else "open", issued_on=issued, due_on=due,
                    subtotal=1580, tax_total=300, total=1880, amount_paid=1880 if paid else 0,
                    buyer={"country": "DE"},
                ))  # fmt: skip
                if paid:
                    payments.append(Transaction(
                        company=company, client_id=pk, kind="payment", status="approved",
                        currency=currency, amount=1880, method="manual", actor="bench",
                    ))  # fmt: skip
            if pk % 10 == 0:
                payments.append(Transaction(
                    company=company, client_id=pk, kind="payment", status="declined",
                    currency=currency, amount=1880, method="test", actor="bench",
                ))  # fmt: skip
        with transaction.atomic():
            made = Invoice.objects.bulk_create(invoices)
            InvoiceLine.objects.bulk_create(
                InvoiceLine(invoice=i, description="Web", unit_amount=1580, amount=1580,
                            tax1_rate=19, tax1_amount=300, total=1880, tax_rule="domestic")
                for i in made
            )  # fmt: skip
            txns = Transaction.objects.bulk_create(payments)
        # Payments are dated on their invoice's due day (created_at is set on insert).
        paid = [i for i in made if i.status == "paid"]
        approved = [t for t in txns if t.status == "approved"]
        for txn, invoice in zip(approved, paid, strict=True):
            txn.created_at = datetime.combine(invoice.due_on, clock_time(10), tz)
        Transaction.objects.bulk_update(approved, ["created_at"], batch_size=500)
    return number


def _book(clients: int, months: int):
    from groupbill.companies.models import Company

    name = f"Bench {clients} dashboard"
    company = Company.objects.filter(name=name).order_by("pk").first()
    if company is not None:
        return company, False
    from bench import book

    started = time.perf_counter()
    company = book.build(clients)
    Company.objects.filter(pk=company.pk).update(name=name)
    invoices = _ledger(company, months)
    setup.analyze()
    print(f"built {clients} clients, {invoices} invoices in {time.perf_counter() - started:.0f} s")
    return company, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=33_334, help="three services each")
    parser.add_argument("--months", type=int, default=6, help="invoices per client")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup.django(migrate=True)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client as HttpClient

    from groupbill.billing.models import Invoice
    from groupbill.companies.models import StaffMembership
    from groupbill.services.models import Service

    company, _ = _book(args.clients, args.months)
    services = Service.objects.filter(client__company=company).count()
    invoices = Invoice.objects.filter(company=company).count()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True}
    )
    # An owner of the company: staff pages answer 403 to staff without a role there.
    StaffMembership.objects.get_or_create(user=user, company=company, defaults={"role": "owner"})
    http = HttpClient()
    http.force_login(user)
    url = f"/companies/{company.pk}/dashboard/"
    assert http.get(url).status_code == 200  # warm-up

    timings, cpu, counts = [], [], []
    for _ in range(args.runs):
        queries = Queries()
        with connection.execute_wrapper(queries):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = http.get(url)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200
        counts.append(queries.count)
    median = statistics.median(timings)
    print(f"database: {setup.where()}")
    print(f"book: {services} services, {invoices} invoices")
    print(f"dashboard: median {median:.3f} s, fastest {min(timings):.3f} s over {args.runs} "
          f"requests; {counts[0]} queries (all runs: {sorted(set(counts))})")  # fmt: skip
    # On a shared machine the wall time grows with the others' load; this process's CPU
    # time does not (SQLite's work is in it, a PostgreSQL server's is not).
    print(f"CPU of this process: median {statistics.median(cpu):.3f} s; load average "
          f"{' '.join(f'{n:.2f}' for n in os.getloadavg())}")  # fmt: skip
    verdict = "meets" if median < GOAL_SECONDS else "MISSES"
    print(f"goal: under {GOAL_SECONDS:.0f} s with a constant number of queries: {verdict} it")


if __name__ == "__main__":
    main()
