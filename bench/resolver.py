"""Resolver benchmark: effective settings for large batches of clients.

    .venv/bin/python bench/resolver.py [N ...]        (default: 1000 10000 100000)

Builds a throw-away SQLite book (or uses DATABASE_URL's database if set: it creates and
drops its own company there) with 20 groups carrying overrides and 5% of clients carrying
client overrides, then prints queries, wall time and peak Python memory per batch size.
"""

import os
import sys
import tempfile
import time
import tracemalloc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groupbill.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["GROUPBILL_DATA_DIR"] = tempfile.mkdtemp(prefix="groupbill-bench-")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from groupbill.clients.actions import create_group  # noqa: E402
from groupbill.clients.models import Client  # noqa: E402
from groupbill.companies.actions import create_company  # noqa: E402
from groupbill.settings_catalog.actions import set_group_settings  # noqa: E402
from groupbill.settings_catalog.models import SettingValue  # noqa: E402
from groupbill.settings_catalog.resolver import resolve_clients  # noqa: E402

ACTOR = "bench"


def build(n: int):
    company = create_company(
        {"name": f"Bench {n}", "timezone": "UTC", "default_currency": "USD"}, actor=ACTOR
    )
    groups = [company.client_groups.first()]
    for i in range(19):
        g = create_group(company, {"name": f"G{i}"}, actor=ACTOR)
        set_group_settings(
            g, {"invoice_days_before_renewal": i % 60, "autodebit_attempts": 1 + i % 30},
            actor=ACTOR,
        )  # fmt: skip
        groups.append(g)
    Client.objects.bulk_create(
        (Client(company=company, group=groups[i % 20], default_currency="USD") for i in range(n)),
        batch_size=5000,
    )
    ids = list(Client.objects.filter(company=company).values_list("pk", flat=True))
    SettingValue.objects.bulk_create(
        (SettingValue(company=company, client_id=cid, key="autodebit_enabled", value=False)
         for cid in ids[::20]),
        batch_size=5000,
    )  # fmt: skip
    return company


def measure(company, n: int) -> None:
    queryset = Client.objects.filter(company=company)
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        resolved = resolve_clients(queryset)
        seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(resolved) == n
    print(
        f"{n:>8} clients  {len(queries):>2} queries  {seconds * 1000:>9.1f} ms  "
        f"{seconds / n * 1e6:>6.2f} us/client  peak {peak / 2**20:>7.1f} MiB"
    )


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000, 100000]
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    for n in sizes:
        company = build(n)
        measure(company, n)
        Client.objects.filter(company=company).delete()  # groups protect their clients
        company.delete()


if __name__ == "__main__":
    main()
