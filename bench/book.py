"""A synthetic book for benchmarks, bulk-inserted (this measures the engine, not the order
form): N clients in five groups with different settings, three services each (a web plan
with a configurable option, a mail plan monthly, quarterly or yearly, and a backup addon
of the web plan), in EUR, USD or GBP; half of the clients with an auto-debit card, one in
ten of those declined by the sandbox.

Every service renews on START + 14 days, inside every group's invoicing lead time, so
the first day's run invoices every service period of the book: the heaviest day there is.
With --spread 30, a client's services renew on one of 30 consecutive days instead, as in
a book in its steady state: each day renews about a thirtieth of it (an ordinary day).

    python -m bench.book --clients 10000          # into $DATABASE_URL, or bench.sqlite3
    python -m bench.book --clients 10000 --spread 30
"""

import argparse
import random
import time
from datetime import date, timedelta

from bench import setup

START = date(2027, 3, 1)
RENEWS = START + timedelta(days=14)
ACTOR = "bench"
CURRENCIES = ("EUR", "USD", "GBP")
GROUP_SETTINGS = [
    {"invoice_days_before_renewal": 14},
    {"invoice_days_before_renewal": 20, "invoice_services_together": False},
    {"invoice_days_before_renewal": 14, "suspend_services_days_after_due": 3,
     "autodebit_days_before_due": 0},
    {"invoice_days_before_renewal": 14, "invoice_method": "paper",
     "delivery_methods": ["email", "paper"], "notice_first_days": None},
    {"invoice_days_before_renewal": 30, "auto_apply_credits": False,
     "suspend_services_days_after_due": "never"},
]  # fmt: skip


def _catalog(company):
    from groupbill.catalog.models import (
        ConfigOption,
        ConfigOptionPrice,
        ConfigOptionValue,
        Package,
        PackagePrice,
    )

    web = Package.objects.create(company=company, name="Web")
    mail = Package.objects.create(company=company, name="Mail")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(web)
    disk = ConfigOption.objects.create(package=web, name="Disk", kind="quantity")
    extra_gb = ConfigOptionValue.objects.create(option=disk, name="Extra GB")
    prices: dict[str, dict] = {}
    for currency in CURRENCIES:
        prices[currency] = {
            "web": PackagePrice.objects.create(package=web, unit="month", count=1,
                                               currency=currency, price=990),
            "mail": [
                PackagePrice.objects.create(package=mail, unit="month", count=1,
                                            currency=currency, price=290),
                PackagePrice.objects.create(package=mail, unit="month", count=3,
                                            currency=currency, price=840),
                PackagePrice.objects.create(package=mail, unit="year", count=1,
                                            currency=currency, price=2900),
            ],
            "backup": PackagePrice.objects.create(package=backup, unit="month", count=1,
                                                  currency=currency, price=300),
        }  # fmt: skip
        ConfigOptionPrice.objects.create(
            value=extra_gb, unit="month", count=1, currency=currency, price=25
        )
    return prices, disk, extra_gb


def build(clients: int, start: date = START, seed: int = 7, spread: int = 1):
    """The company, its groups and catalogue, then the book in bulk; returns the company."""
    from groupbill.billing.models import PaymentAccount
    from groupbill.clients.actions import create_group
    from groupbill.clients.models import Client, Contact
    from groupbill.companies.actions import create_company
    from groupbill.periods import period_start
    from groupbill.services.models import Service, ServiceOption, ServiceStatus
    from groupbill.settings_catalog.actions import set_group_settings

    rng = random.Random(seed)
    company = create_company(
        {"name": f"Bench {clients}", "timezone": "Europe/Berlin", "default_currency": "EUR"},
        actor=ACTOR,
    )
    groups = [company.client_groups.get()]
    groups += [create_group(company, {"name": f"Group {i}"}, actor=ACTOR) for i in range(1, 5)]
    for group, overrides in zip(groups, GROUP_SETTINGS, strict=True):
        set_group_settings(group, overrides, actor=ACTOR)
    prices, disk, extra_gb = _catalog(company)

    def service(client, pricing, parent=None):
        # Anchored so that its next period starts on its renewal day, one period in already.
        renews = start + timedelta(days=14 + client.pk % spread)
        anchor = period_start(renews, pricing.term, -1)
        return Service(client=client, package_id=pricing.package_id, pricing=pricing,
                       parent=parent, status=ServiceStatus.ACTIVE, anchor_date=anchor,
                       next_period=1, renew_date=period_start(anchor, pricing.term, 1))  # fmt: skip

    batch = 5000
    for first in range(0, clients, batch):
        count = min(batch, clients - first)
        made = Client.objects.bulk_create(
            Client(company=company, group=groups[(first + i) % len(groups)],
                   default_currency=CURRENCIES[(first + i) % len(CURRENCIES)])
            for i in range(count)
        )  # fmt: skip
        Contact.objects.bulk_create(
            Contact(client=c, role="primary", first_name=f"Client {c.pk}",
                    email=f"c{c.pk}@bench.test", country="DE")
            for c in made
        )  # fmt: skip
        PaymentAccount.objects.bulk_create(
            PaymentAccount(client=c, kind="card", gateway="test",
                           reference=f"tok_{c.pk}_{'0002' if n % 10 == 9 else '4242'}",
                           last4="0002" if n % 10 == 9 else "4242", is_autodebit=True)
            for n, c in enumerate(made[::2])
        )  # fmt: skip
        webs = Service.objects.bulk_create(
            service(c, prices[c.default_currency]["web"]) for c in made
        )
        Service.objects.bulk_create(
            [service(c, rng.choice(prices[c.default_currency]["mail"])) for c in made]
            + [service(c, prices[c.default_currency]["backup"], parent=w)
               for c, w in zip(made, webs, strict=True)]
        )  # fmt: skip
        ServiceOption.objects.bulk_create(
            ServiceOption(service=w, option=disk, value=extra_gb, quantity=rng.randrange(1, 50))
            for w in webs[::3]
        )
    return company


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--spread", type=int, default=1, help="days the renewals spread over")
    args = parser.parse_args()
    setup.django(migrate=True)
    started = time.perf_counter()
    company = build(args.clients, spread=args.spread)
    from groupbill.services.models import Service

    services = Service.objects.filter(client__company=company).count()
    print(f"company #{company.pk}: {args.clients} clients, {services} services "
          f"({time.perf_counter() - started:.1f} s) in {setup.where()}")  # fmt: skip
    setup.analyze()


if __name__ == "__main__":
    main()
