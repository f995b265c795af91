"""What a run costs the database as the book grows: the same work per invoice for a small
book and a larger one, on a database nobody has tuned."""

import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.db import connection

from groupbill.automation import statistics
from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import renewal_invoices
from groupbill.billing.models import Invoice
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.models import Client
from groupbill.companies.actions import create_company
from groupbill.services.models import Service, ServiceStatus
from tests.conftest import ACTOR

DAY = date(2027, 3, 1)


def _book(name: str, clients: int):
    company = create_company({"name": name, "timezone": "UTC", "default_currency": "USD"},
                             actor=ACTOR)  # fmt: skip
    group = company.client_groups.get()
    package = Package.objects.create(company=company, name="Monthly plan")
    price = PackagePrice.objects.create(package=package, unit="month", count=1, currency="USD",
                                        price=1000)  # fmt: skip
    made = Client.objects.bulk_create(
        Client(company=company, group=group, default_currency="USD") for _ in range(clients)
    )
    Service.objects.bulk_create(
        Service(client=c, package=package, pricing=price, status=ServiceStatus.ACTIVE,
                anchor_date=DAY - timedelta(days=28), next_period=1, renew_date=DAY)
        for c in made
    )  # fmt: skip
    return company


def _steps_per_invoice(company) -> float:
    """SQLite's virtual machine steps of the run (in thousands), per invoice it issued."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    raw = connection.connection
    raw.set_progress_handler(count, 1000)
    try:
        execute(AsOf(day=DAY), companies=[company], tasks=[renewal_invoices])
    finally:
        raw.set_progress_handler(None, 0)
    return steps / Invoice.objects.filter(company=company).count()


def test_a_larger_book_costs_the_database_no_more_per_invoice(db, monkeypatch):
    """Nothing runs ANALYZE on SQLite by itself, and without statistics it planned a
    shard's due services by scanning, for each client, every service of the shard: 800
    clients cost half as much again per invoice as 100 (15,000 steps against 10,000; now
    900 against 1,800, the run's fixed part shared by more invoices)."""
    if connection.vendor != "sqlite":
        pytest.skip("counts SQLite's own steps")
    connection.ensure_connection()
    monkeypatch.setattr(statistics, "_STATISTICS", {})  # a database never analysed
    small, large = _book("Small", 100), _book("Large", 800)
    per_invoice_small = _steps_per_invoice(small)
    per_invoice_large = _steps_per_invoice(large)
    assert Invoice.objects.filter(company=large).count() == 800
    assert per_invoice_large <= per_invoice_small, (per_invoice_small, per_invoice_large)


# Holds SQLite's write lock (BEGIN IMMEDIATE) until told to let go on its standard input.
_HOLD_THE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


@pytest.mark.django_db(transaction=True)
def test_a_database_locked_by_another_process_leaves_planning_to_go_on(monkeypatch):
    """Taking statistics writes: while another process holds SQLite's write lock, a run's
    planning goes on without them (its batches wait for the lock, as any writer does), and
    the next run takes them."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    company = _book("Locked", 20)
    monkeypatch.setattr(statistics, "_STATISTICS", {})
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_LOCK, str(connection.settings_dict["NAME"])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 300")  # not the 30 s a writer waits
        statistics.for_planning()  # refused the lock: no error
        assert statistics._STATISTICS == {}
    finally:
        holder.communicate("go\n", timeout=10)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 30000")
    execute(AsOf(day=DAY), companies=[company], tasks=[renewal_invoices])
    assert Invoice.objects.filter(company=company).count() == 20
    statistics.for_planning()  # read back: taken by the run
    assert statistics._STATISTICS, "the run after the lock took statistics"
