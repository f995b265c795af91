"""A synthetic book for benchmarks: N clients in 5 groups with different settings, 3
services each (one of them an addon), half of the clients with an auto-debit card.
Rows are bulk-inserted: this measures the engine, not the order form."""

import random
from datetime import date, timedelta

from groupbill.billing.models import PaymentAccount
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.actions import create_group
from groupbill.clients.models import Client, Contact
from groupbill.companies.actions import create_company
from groupbill.periods import period_start
from groupbill.services.models import Service, ServiceStatus
from groupbill.settings_catalog.actions import set_group_settings

ACTOR = "bench"
GROUP_SETTINGS = [
    {},
    {"invoice_days_before_renewal": 10, "invoice_services_together": False},
    {"suspend_services_days_after_due": 3, "autodebit_days_before_due": 0},
    {"invoice_method": "paper", "delivery_methods": ["email", "paper"], "notice_first_days": None},
    {"auto_apply_credits": False, "suspend_services_days_after_due": "never"},
]


def build(clients: int, start: date, seed: int = 7):
    rng = random.Random(seed)
    company = create_company(
        {"name": f"Bench {clients}", "timezone": "Europe/Berlin", "default_currency": "EUR"},
        actor=ACTOR,
    )
    groups = [company.client_groups.get()]
    for i, overrides in enumerate(GROUP_SETTINGS[1:], start=1):
        group = create_group(company, {"name": f"Group {i}"}, actor=ACTOR)
        set_group_settings(group, overrides, actor=ACTOR)
        groups.append(group)
    if GROUP_SETTINGS[0]:
        set_group_settings(groups[0], GROUP_SETTINGS[0], actor=ACTOR)
    web = Package.objects.create(company=company, name="Web")
    mail = Package.objects.create(company=company, name="Mail")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(web)
    prices = [
        PackagePrice.objects.create(package=web, unit="month", count=1, currency="EUR", price=990),
        PackagePrice.objects.create(package=mail, unit="month", count=1, currency="EUR", price=290),
        PackagePrice.objects.create(package=mail, unit="year", count=1, currency="EUR", price=2900),
    ]
    backup_price = PackagePrice.objects.create(
        package=backup, unit="month", count=1, currency="EUR", price=300
    )
    made = Client.objects.bulk_create(
        Client(company=company, group=groups[i % len(groups)], default_currency="EUR")
        for i in range(clients)
    )
    Contact.objects.bulk_create(
        Contact(client=c, role="primary", first_name=f"Client {c.pk}", email=f"c{c.pk}@bench.test")
        for c in made
    )
    PaymentAccount.objects.bulk_create(
        PaymentAccount(
            client=c,
            kind="card",
            gateway="test",
            reference=f"tok_{c.pk}_4242",
            last4="4242",
            is_autodebit=True,
        )
        for c in made[::2]
    )
    services = []
    for c in made:
        anchor = start - timedelta(days=rng.randrange(0, 60))
        for pricing in (prices[0], rng.choice(prices[1:])):
            services.append(_service(c, pricing, anchor, start))
    Service.objects.bulk_create(services, batch_size=2000)
    parents = {s.client_id: s for s in Service.objects.filter(client__company=company, package=web)}
    Service.objects.bulk_create(
        (
            _service(c, backup_price, parents[c.pk].anchor_date, start, parent=parents[c.pk])
            for c in made
        ),
        batch_size=2000,
    )
    return company


def _service(client, pricing, anchor, start, parent=None) -> Service:
    n = 1
    while period_start(anchor, pricing.term, n) < start:
        n += 1
    return Service(
        client=client,
        package=pricing.package,
        pricing=pricing,
        parent=parent,
        status=ServiceStatus.ACTIVE,
        anchor_date=anchor,
        next_period=n,
        renew_date=period_start(anchor, pricing.term, n),
    )
