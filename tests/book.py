"""A small book for engine tests: three groups with different settings, clients with
monthly and yearly services, an addon, a configurable option, cards that work and one that
declines, loose credit, a recurring invoice. And a snapshot of everything the engine can
change, without ids, numbers or timestamps, to compare runs."""

import contextlib
from datetime import date

from django.db import transaction

from groupbill import external
from groupbill.billing import accounts, payments, recurring
from groupbill.billing.models import Invoice, InvoiceLine, Transaction
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.clients.actions import create_group
from groupbill.notices.models import OutboxMessage, PrintJob
from groupbill.services import actions as services
from groupbill.services.models import BilledPeriod, Service
from groupbill.settings_catalog.actions import set_company_settings, set_group_settings

ACTOR = "test"
START = date(2026, 1, 28)


@contextlib.contextmanager
def rolled_back():
    """A scenario played inside one transaction and rolled back, to compare with another.
    Its gateway (the sandbox) and modules (the test module) are in-process stand-ins, so
    their calls may be made inside that transaction."""
    with external.simulated(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def build(company, make_client) -> None:
    set_company_settings(company, {"delivery_methods": ["email", "paper"]}, actor=ACTOR)
    strict = create_group(company, {"name": "Strict"}, actor=ACTOR)
    set_group_settings(
        strict,
        {
            "suspend_services_days_after_due": 3,
            "autodebit_attempts": 2,
            "invoice_services_together": False,
        },
        actor=ACTOR,
    )
    relaxed = create_group(company, {"name": "Relaxed"}, actor=ACTOR)
    set_group_settings(
        relaxed,
        {
            "invoice_days_before_renewal": 14,
            "invoice_method": "paper",
            "notice_first_days": None,
            "auto_apply_credits": False,
        },
        actor=ACTOR,
    )
    hosting = Package.objects.create(company=company, name="Hosting")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(hosting)
    monthly = PackagePrice.objects.create(
        package=hosting, unit="month", count=1, currency="EUR", price=1000, setup_fee=500
    )
    yearly = PackagePrice.objects.create(
        package=hosting, unit="year", count=1, currency="EUR", price=9900
    )
    backup_monthly = PackagePrice.objects.create(
        package=backup, unit="month", count=1, currency="EUR", price=300
    )
    disk = ConfigOption.objects.create(package=hosting, name="Disk", kind="quantity")
    gb = ConfigOptionValue.objects.create(option=disk, name="10 GB")
    ConfigOptionPrice.objects.create(value=gb, unit="month", count=1, currency="EUR", price=150)

    def client(group, n, card_ending=None):
        c = make_client(group=group, email=f"c{n}@example.com", first_name=f"Client{n}")
        if card_ending:
            accounts.add_payment_account(
                c,
                {
                    "kind": "card",
                    "gateway": "test",
                    "reference": f"tok_{n}_{card_ending}",
                    "last4": card_ending,
                    "is_autodebit": True,
                },
                actor=ACTOR,
            )
        return c

    people = [
        (client(None, 1, "4242"), monthly, {disk.pk: (gb.pk, 2)}),
        (client(None, 2), yearly, {}),
        (client(strict, 3, "0002"), monthly, {}),
        (client(strict, 4), monthly, {}),
        (client(relaxed, 5, "4242"), monthly, {}),
        (client(relaxed, 6), monthly, {}),
    ]
    for i, (c, price, options) in enumerate(people):
        service = services.add_service(
            c, pricing=price, start_on=START, options=options, actor=ACTOR
        )
        if i != 3:  # client 4 never pays its first invoice
            payments.pay_invoice(
                service.first_invoice, amount=service.first_invoice.total, actor=ACTOR
            )
            services.provision(service, actor=ACTOR)
        if i == 0:
            addon = services.add_service(
                c, pricing=backup_monthly, parent=service, start_on=date(2026, 2, 10), actor=ACTOR
            )
            payments.pay_invoice(addon.first_invoice, amount=addon.first_invoice.total, actor=ACTOR)
    payments.add_credit(people[5][0], amount=700, currency="EUR", actor=ACTOR)
    payments.add_credit(people[1][0], amount=400, currency="EUR", actor=ACTOR)
    recurring.create_recurring(
        people[1][0],
        {"unit": "month", "start_on": "2026-02-15"},
        [{"description": "Support", "unit_amount": 2500}],
        actor=ACTOR,
    )


def _no_ids(key: str) -> str:
    """Idempotency keys name ids (client, invoice...): those differ between runs."""
    return ":".join("#" if part.isdigit() else part for part in key.split(":"))


def snapshot(company) -> dict:
    """Everything the engine changes, comparable across runs (no ids, numbers, times)."""
    email = {s.pk: s.client.contacts.first().email for s in Service.objects.all()}
    return {
        "invoices": sorted(
            (
                i.client.contacts.first().email,
                str(i.issued_on),
                str(i.due_on),
                i.status,
                i.total,
                i.amount_paid,
                i.delivery_method,
                i.currency,
            )
            for i in Invoice.objects.filter(company=company)
        ),
        "lines": sorted(
            (
                ln.invoice.client.contacts.first().email,
                ln.description,
                ln.amount,
                ln.total,
                str(ln.period_start),
                ln.kind,
            )
            for ln in InvoiceLine.objects.filter(invoice__company=company)
        ),
        "transactions": sorted(
            (
                t.client.contacts.first().email,
                t.kind,
                t.status,
                t.amount,
                t.method,
                _no_ids(t.idempotency_key or ""),
                t.applications.count(),
            )
            for t in Transaction.objects.filter(company=company)
        ),
        "messages": sorted(
            (_no_ids(m.key), m.template, m.status)
            for m in OutboxMessage.objects.filter(company=company)
        ),
        "print_jobs": PrintJob.objects.filter(invoice__company=company).count(),
        "services": sorted(
            (
                email[s.pk],
                s.package.name,
                s.status,
                s.suspended_by,
                str(s.renew_date),
                s.next_period,
                s.renewal_attempts,
            )
            for s in Service.objects.filter(client__company=company)
        ),
        "periods": sorted(
            (email[b.service_id], b.period, b.skipped, b.invoice_id is None, b.renewed_at is None)
            for b in BilledPeriod.objects.filter(service__client__company=company)
        ),
        "notes": sorted(n.text for c in company.clients.all() for n in c.notes.all()),
    }
