"""Groupbill beside a peer: invoice generation for N monthly subscriptions on SQLite,
timed for Tryton 8.2 (`sale_subscription`) and for Groupbill in the same run.

    make bench-peer                        # once: bench-peer/venv with Tryton 8.2
    python -m bench.peer_tryton 100 500 900

Only invoice generation is timed on either side (Tryton: consumption lines and invoices
for one period, each step committed, as its wizards do; Groupbill: the engine's
`renewal_invoices` task). Keep N at 900 or less: Tryton fails at about 1,000 in one run
on SQLite ("Expression tree is too large").
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

from bench.setup import ROOT

PEER_PYTHON = ROOT / "bench-peer" / "venv" / "bin" / "python"
DAY = date(2027, 3, 1)


def tryton(sizes: list[int]) -> dict[int, dict]:
    if not PEER_PYTHON.exists():
        sys.exit("Tryton is not installed: run `make bench-peer` first.")
    done = subprocess.run(
        [str(PEER_PYTHON), str(ROOT / "bench" / "tryton_side.py"), *map(str, sizes), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    out = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
            out[doc["n"]] = doc
    return out


def groupbill(sizes: list[int]) -> dict[int, dict]:
    data = tempfile.mkdtemp(prefix="groupbill-peer-")
    os.environ["DATABASE_URL"] = f"sqlite:///{data}/peer.sqlite3"
    from bench import setup

    setup.django(migrate=True)
    from groupbill.automation.engine import AsOf, execute
    from groupbill.automation.tasks import renewal_invoices
    from groupbill.billing.models import Invoice
    from groupbill.catalog.models import Package, PackagePrice
    from groupbill.clients.models import Client, Contact
    from groupbill.companies.actions import create_company
    from groupbill.services.models import Service, ServiceStatus

    out = {}
    for n in sizes:
        company = create_company({"name": f"Peer {n}", "timezone": "UTC",
                                  "default_currency": "USD"}, actor="bench")  # fmt: skip
        group = company.client_groups.get()
        package = Package.objects.create(company=company, name="Monthly plan")
        price = PackagePrice.objects.create(package=package, unit="month", count=1,
                                            currency="USD", price=1000)  # fmt: skip
        clients = Client.objects.bulk_create(
            Client(company=company, group=group, default_currency="USD") for _ in range(n)
        )
        Contact.objects.bulk_create(
            Contact(client=c, role="primary", first_name=f"Customer {c.pk}") for c in clients
        )
        Service.objects.bulk_create(
            Service(client=c, package=package, pricing=price, status=ServiceStatus.ACTIVE,
                    anchor_date=DAY - timedelta(days=28), next_period=1, renew_date=DAY)
            for c in clients
        )  # fmt: skip
        started = time.perf_counter()
        execute(AsOf(day=DAY), companies=[company], tasks=[renewal_invoices])
        seconds = time.perf_counter() - started
        out[n] = {"invoices": Invoice.objects.filter(company=company).count(),
                  "invoice_seconds": seconds}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 500, 900])
    args = parser.parse_args()
    peer = tryton(args.sizes)
    ours = groupbill(args.sizes)
    print(f"{'N':>5} {'Tryton ms/inv':>14} {'Groupbill ms/inv':>17} {'faster':>8}")
    for n in args.sizes:
        ms_ours = 1000 * ours[n]["invoice_seconds"] / max(ours[n]["invoices"], 1)
        if n not in peer or "error" in peer[n]:
            print(f"{n:>5} {'failed':>14} {ms_ours:>17.3f}")
            continue
        ms_peer = 1000 * peer[n]["invoice_seconds"] / peer[n]["invoices"]
        print(f"{n:>5} {ms_peer:>14.3f} {ms_ours:>17.3f} {ms_peer / ms_ours:>7.0f}x")


if __name__ == "__main__":
    main()
