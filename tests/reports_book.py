"""A small hand-made book whose report figures are worked out by hand in the tests:
invoices written straight into the ledger with chosen due dates, balances and taxed
lines, payments with chosen days, and services with chosen terms, prices and dates.
Amounts are powers of two (in hundreds of cents), so any sum names its invoices."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from groupbill.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.clients.actions import create_group
from groupbill.services.models import Service, ServiceOption, ServiceStatus

ACTOR = "test"
# Days past due of the open EUR invoices, each with its own balance (power of two x 100).
OVERDUE_DAYS = [-5, 0, 1, 30, 31, 60, 61, 90, 91]
BALANCE = {days: 100 * 2**i for i, days in enumerate(OVERDUE_DAYS)}


@dataclass
class Book:
    today: date
    ada: object  # Resellers, EUR, buyer in DE
    bob: object  # General, EUR, buyer in FR
    cy: object  # General, USD, buyer in US


def _invoice(client, currency, *, status=InvoiceStatus.OPEN, issued_on, due_on, total,
             paid=0, tax=0, country="DE"):  # fmt: skip
    n = Invoice.objects.filter(company=client.company).count() + 1
    return Invoice.objects.create(
        company=client.company,
        client=client,
        currency=currency,
        number=90_000 + n if status != InvoiceStatus.DRAFT else None,  # clear of issued ones
        status=status,
        issued_on=issued_on,
        due_on=due_on,
        subtotal=total - tax,
        tax_total=tax,
        total=total,
        amount_paid=paid,
        buyer={"country": country, "name": str(client)},
    )


def _line(invoice, net, rate1="0", tax1=0, rate2="0", tax2=0, rule="domestic"):
    return InvoiceLine.objects.create(
        invoice=invoice,
        description="Hosting",
        unit_amount=net,
        amount=net,
        tax1_rate=Decimal(rate1),
        tax1_amount=tax1,
        tax2_rate=Decimal(rate2),
        tax2_amount=tax2,
        total=net + tax1 + tax2,
        tax_rule=rule,
    )


def _payment(client, amount, day, company, kind=TransactionKind.PAYMENT,
             status=TransactionStatus.APPROVED, currency="EUR", hour=12):  # fmt: skip
    txn = Transaction.objects.create(
        company=company, client=client, kind=kind, status=status, currency=currency,
        amount=amount, method="manual", actor=ACTOR,
    )  # fmt: skip
    at = datetime.combine(day, time(hour), ZoneInfo(company.timezone))
    Transaction.objects.filter(pk=txn.pk).update(created_at=at)
    return txn


def ledger(company, make_client, today: date) -> Book:
    """Open invoices across the ageing boundaries, paid/void/draft ones that do not count,
    taxed lines in two countries and rates, payments and refunds on chosen days."""
    resellers = create_group(company, {"name": "Resellers"}, actor=ACTOR)
    ada = make_client(group=resellers, email="ada@example.com")
    bob = make_client(first_name="Bob", email="bob@example.com")
    cy = make_client(first_name="Cy", email="cy@example.com", default_currency="USD")
    for days, balance in BALANCE.items():
        due = today - timedelta(days=days)
        _invoice(ada, "EUR", issued_on=due - timedelta(days=14), due_on=due, total=balance)
    # Partly paid: only the balance (700) counts, 10 days overdue.
    _invoice(bob, "EUR", issued_on=today - timedelta(days=24), due_on=today - timedelta(days=10),
             total=1000, paid=300, country="FR")  # fmt: skip
    # Not owed: paid, void, draft; and an open invoice whose balance is nothing.
    old = today - timedelta(days=200)
    _invoice(bob, "EUR", status=InvoiceStatus.PAID, issued_on=old, due_on=old, total=5000,
             paid=5000, country="FR")  # fmt: skip
    _invoice(bob, "EUR", status=InvoiceStatus.VOID, issued_on=old, due_on=old, total=7000)
    _invoice(bob, "EUR", status=InvoiceStatus.DRAFT, issued_on=None, due_on=old, total=9000)
    _invoice(bob, "EUR", issued_on=old, due_on=old, total=800, paid=800)
    # Another currency: 45 days overdue, never added to the euros.
    _invoice(cy, "USD", issued_on=today - timedelta(days=59), due_on=today - timedelta(days=45),
             total=12_345, country="US")  # fmt: skip
    return Book(today, ada, bob, cy)


def taxed_invoices(book: Book) -> None:
    """Invoices of the month before `today` with taxed lines (paid, so ageing is as
    above): DE 19 % domestic, FR 20 % for a consumer, a reverse-charged FR line at 0 %, a
    line with two taxes, and a void invoice whose lines do not count."""
    first = book.today.replace(day=1)
    day = first - timedelta(days=3)  # in the previous month
    de = _invoice(book.ada, "EUR", status=InvoiceStatus.PAID, issued_on=day, due_on=day,
                  total=15_480, paid=15_480, tax=1_900 + 380 + 150 + 50)  # fmt: skip
    _line(de, 10_000, "19", 1_900)
    _line(de, 2_000, "19", 380)
    _line(de, 1_000, "15", 150, "5", 50)
    fr = _invoice(book.bob, "EUR", status=InvoiceStatus.PAID, issued_on=day, due_on=day,
                  total=6_000 + 5_000, paid=11_000, tax=1_000, country="FR")  # fmt: skip
    _line(fr, 5_000, "20", 1_000, rule="consumer")
    _line(fr, 5_000, rule="reverse_charge")
    void = _invoice(book.ada, "EUR", status=InvoiceStatus.VOID, issued_on=day, due_on=day,
                    total=1_190, tax=190)  # fmt: skip
    _line(void, 1_000, "19", 190)


def services(company, book: Book) -> dict:
    """Active services with monthly, quarterly and yearly terms in EUR and USD, an option,
    a one-time service, a pending, a suspended and canceled ones (with their dates)."""
    hosting = Package.objects.create(company=company, name="Hosting")

    def price(unit, count, currency, amount):
        return PackagePrice.objects.create(
            package=hosting, unit=unit, count=count, currency=currency, price=amount
        )

    monthly = price("month", 1, "EUR", 1_000)
    quarterly = price("month", 3, "EUR", 2_700)
    yearly = price("year", 1, "EUR", 12_000)
    usd_yearly = price("year", 1, "USD", 10_000)
    onetime = price("onetime", 1, "EUR", 50_000)
    disk = ConfigOption.objects.create(package=hosting, name="Disk", kind="quantity")
    gb = ConfigOptionValue.objects.create(option=disk, name="10 GB")
    ConfigOptionPrice.objects.create(value=gb, unit="month", count=1, currency="EUR", price=150)
    ConfigOptionPrice.objects.create(value=gb, unit="year", count=1, currency="EUR", price=1_200)
    this_month = book.today.replace(day=1)
    long_ago = this_month - timedelta(days=400)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    tz = ZoneInfo(company.timezone)

    def service(client, pricing, *, quantity=1, status=ServiceStatus.ACTIVE, start=long_ago,
                canceled=None):  # fmt: skip
        s = Service.objects.create(
            client=client, package=hosting, pricing=pricing, quantity=quantity, status=status,
            anchor_date=start if status != ServiceStatus.PENDING else None,
            canceled_at=datetime.combine(canceled, time(9), tz) if canceled else None,
        )  # fmt: skip
        return s

    made = {
        "monthly_x2": service(book.ada, monthly, quantity=2),  # 2000 a month
        "quarterly": service(book.ada, quarterly),  # 2700 / 3 = 900
        "yearly": service(book.bob, yearly),  # 12000 / 12 = 1000
        "yearly_disk": service(book.bob, yearly),  # 1000 + 3 x 1200 / 12 = 1300
        "usd_yearly": service(book.cy, usd_yearly),  # 10000 / 12 = 833.33 -> 833
        "onetime": service(book.bob, onetime),  # no MRR
        "pending": service(book.bob, monthly, status=ServiceStatus.PENDING),
        "suspended": service(book.bob, monthly, status=ServiceStatus.SUSPENDED),
        # Started last month: new MRR of last month.
        "new_last_month": service(book.ada, monthly, start=last_month + timedelta(days=4)),
        # Canceled last month (a quarterly one: 900 churned) and this month (1000).
        "churned_last_month": service(
            book.ada, quarterly, status=ServiceStatus.CANCELED,
            canceled=last_month + timedelta(days=9),
        ),
        "churned_this_month": service(
            book.bob, monthly, status=ServiceStatus.CANCELED, canceled=this_month,
        ),
    }  # fmt: skip
    ServiceOption.objects.create(service=made["yearly_disk"], option=disk, value=gb, quantity=3)
    return made
