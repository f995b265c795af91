"""One company's book for the permission matrices (staff pages and API): one object of
each kind a URL, a query or a body can name, each in a state its actions accept, so that
an allowed request succeeds and a refused one has something to refuse."""

from groupbill.automation.models import EngineRun
from groupbill.billing import accounts, invoices, payments, recurring
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.clients.actions import create_client, create_group
from groupbill.clients.notes import add_note
from groupbill.clock import now
from groupbill.companies.actions import create_company
from groupbill.companies.queries import company_today
from groupbill.notices.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from groupbill.portal.access import give_access
from groupbill.services import actions as services
from groupbill.settings_catalog.actions import set_company_settings

ACTOR = "test"


def book(name: str) -> dict:
    """The ids of one company's objects, by kind ("company", "client", "line", ...)."""
    company = create_company({"name": name, "default_currency": "EUR"}, actor=ACTOR)
    # An upgrade waits for its invoice to be paid: the book has a queued change.
    set_company_settings(company, {"queue_service_changes_until_paid": True}, actor=ACTOR)
    today = company_today(company)
    group = create_group(company, {"name": f"{name} resellers"}, actor=ACTOR)
    ada = {"first_name": "Ada", "last_name": name, "email": f"ada@{name.lower()}.example"}
    client = create_client(company, ada, actor=ACTOR)
    contact = client.contacts.first()
    give_access(contact, actor=ACTOR, link_for=None, now=now())
    add_note(client, "Prefers email.", actor=ACTOR)
    package = Package.objects.create(company=company, name="Hosting")
    price = PackagePrice.objects.create(
        package=package, unit="month", count=1, currency="EUR", price=1000
    )
    bigger = PackagePrice.objects.create(
        package=Package.objects.create(company=company, name="Hosting XL"),
        unit="month",
        count=1,
        currency="EUR",
        price=3000,
    )
    option = ConfigOption.objects.create(package=package, name="Disk", kind="quantity")
    value = ConfigOptionValue.objects.create(option=option, name="10 GB")
    ConfigOptionPrice.objects.create(value=value, unit="month", count=1, currency="EUR", price=100)
    # An active service with a queued upgrade.
    service = services.add_service(client, pricing=price, start_on=today, actor=ACTOR)
    first = service.first_invoice
    payments.pay_invoice(first, amount=first.total, actor=ACTOR)
    services.provision(service, actor=ACTOR)
    change = services.change_service(service, pricing=bigger, today=today, actor=ACTOR)
    # A draft with one line, and an issued invoice voided: its credit note. The upgrade's
    # invoice is open; the first one paid.
    setup = invoices.clean_lines([{"description": "Setup", "unit_amount": 2000}])
    invoice = invoices.create_invoice(client, setup, actor=ACTOR)
    voided = invoices.create_invoice(client, setup, actor=ACTOR)
    invoices.issue_invoice(voided, issued_on=today, actor=ACTOR)
    invoices.void_invoice(voided, actor=ACTOR)
    card = {"kind": "card", "gateway": "test", "reference": f"tok_{name}", "last4": "4242"}
    account = accounts.add_payment_account(client, card, actor=ACTOR)
    txn = payments.record_payment(client, amount=500, currency="EUR", actor=ACTOR)
    template = recurring.create_recurring(
        client,
        {"unit": "month", "start_on": today},
        [{"description": "Support", "unit_amount": 2500}],
        actor=ACTOR,
    )
    endpoint = WebhookEndpoint.objects.create(
        company=company, url="https://example.com/hook", secret="s"
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, company=company, event_type="invoice.created", event_id="e1", payload={}
    )
    message = OutboxMessage.objects.create(
        company=company, client=client, template="invoice_created", recipients=[], key=f"m{name}"
    )
    run = EngineRun.objects.create(
        company=company, as_of="2026-01-01T12:00Z", actor=ACTOR, status="done"
    )
    return {
        "company": company.pk,
        "group": group.pk,
        "client": client.pk,
        "contact": contact.pk,
        "package": package.pk,
        "price": price.pk,
        "bigger_price": bigger.pk,
        "option": option.pk,
        "value": value.pk,
        "service": service.pk,
        "change": change.pk,
        "invoice": invoice.pk,
        "line": invoice.lines.get().pk,
        "open_invoice": change.invoice_id,
        "paid_invoice": first.pk,
        "credit_note": voided.credit_notes.get().pk,
        "account": account.pk,
        "transaction": txn.pk,
        "recurring": template.pk,
        "endpoint": endpoint.pk,
        "delivery": delivery.pk,
        "message": message.pk,
        "run": run.pk,
    }
