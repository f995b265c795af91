"""A client's first month, as a story, to the minor unit, in a two-, a zero- and a
three-decimal currency:

Ada has a little loose credit. She orders Web Hosting (monthly) with 2 x 10 GB extra disk
on January 10th, pays the first invoice partly from that credit and the rest by card, and
the service is provisioned. On the 20th she adds the Backup addon, which is prorated to
renew with the hosting; her first card is declined, the second one works. On the 25th she
upgrades to Web Hosting Pro and pays the prorated difference. On the 28th she goes back to
Web Hosting with her disk (no credit: her group does not prorate downgrade credits). Her
group then starts crediting downgrades, and on the 30th she drops to 1 x 10 GB and gets the
unused part back as credit. Her group invoices ten days ahead: on the 31st February's invoice
(hosting, disk and backup) comes, and her credit pays part of it. On February 1st she
cancels the backup, then the hosting: the invoice keeps its lines and total, and two credit
notes, numbered 1 and 2 in a sequence of their own, credit the backup's line and then the
rest; what her credit paid on it is credit again.
"""

from dataclasses import dataclass
from datetime import date

import pytest

from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import renewal_invoices
from groupbill.billing import accounts, charges, payments
from groupbill.billing.models import Invoice
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.services import actions as services
from groupbill.settings_catalog.actions import set_group_setting
from tests.conftest import ACTOR


@dataclass(frozen=True)
class Book:
    currency: str
    host: int
    disk: int  # per 10 GB unit
    setup: int
    backup: int
    pro: int
    credit: int
    # What the story must come to, worked out by hand:
    first_invoice: int  # host + 2 disk + setup
    backup_prorated: int  # backup x 21/31
    upgrade: int  # (pro - host - 2 disk) x 16/31
    downgrade_unpaid_credit: int  # (host + 2 disk - pro) x 13/31, not credited
    option_credit: int  # disk x 11/31, credited


BOOKS = [
    # 1100 x 16/31 = 567.74; 1100 x 13/31 = 461.29; 200 x 11/31 = 70.97; 300 x 21/31 = 203.23
    Book("EUR", 1000, 200, 500, 300, 2500, 700, 1900, 203, 568, 461, 71),
    # 1200 x 16/31 = 619.35; 1200 x 13/31 = 503.23; 150 x 11/31 = 53.23; 330 x 21/31 = 223.55
    Book("JPY", 980, 150, 0, 330, 2480, 280, 1280, 224, 619, 503, 53),
    # 11000 x 16/31 = 5677.42; 11000 x 13/31 = 4612.90; 2000 x 11/31 = 709.68; 3000 x 21/31
    # = 2032.26
    Book("BHD", 10000, 2000, 5000, 3000, 25000, 7000, 19000, 2032, 5677, 4613, 710),
]


def monthly(package, currency, price, setup=0):
    return PackagePrice.objects.create(
        package=package, unit="month", count=1, currency=currency, price=price, setup_fee=setup
    )


def credit(client, currency):
    return next(
        b.credit for b in payments.balances([client.pk])[client.pk] if b.currency == currency
    )


def balance(client, currency) -> tuple[int, int]:
    """(due on open invoices, loose credit)."""
    [b] = [b for b in payments.balances([client.pk])[client.pk] if b.currency == currency]
    return b.due, b.credit


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.currency)
def test_a_month_of_ordering_paying_changing_and_cancelling(company, group, make_client, book):
    cur = book.currency
    hosting = Package.objects.create(company=company, name="Web Hosting")
    pro = Package.objects.create(company=company, name="Web Hosting Pro")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(hosting, pro)
    host_price = monthly(hosting, cur, book.host, book.setup)
    pro_price = monthly(pro, cur, book.pro)
    backup_price = monthly(backup, cur, book.backup)
    disk = ConfigOption.objects.create(package=hosting, name="Extra disk", kind="quantity")
    ten_gb = ConfigOptionValue.objects.create(option=disk, name="10 GB")
    ConfigOptionPrice.objects.create(value=ten_gb, unit="month", count=1, currency=cur,
                                     price=book.disk)  # fmt: skip
    ada = make_client(group=group, default_currency=cur)

    # Loose credit, then the order on January 10th: one open invoice for the first month.
    payments.add_credit(ada, amount=book.credit, currency=cur, actor=ACTOR, note="welcome")
    site = services.add_service(ada, pricing=host_price, quantity=1,
                                options={disk.pk: (ten_gb.pk, 2)},
                                start_on=date(2026, 1, 10), actor=ACTOR)  # fmt: skip
    first = site.first_invoice
    assert (first.status, first.total, first.due_on) == ("open", book.first_invoice,
                                                         date(2026, 1, 10))  # fmt: skip
    assert site.status == "pending" and site.renew_date == date(2026, 2, 10)
    assert [ln.amount for ln in first.lines.all()] == [
        book.host,
        2 * book.disk,
        *([book.setup] if book.setup else []),
    ]

    # Paid partly from credit, the rest by card; then provisioned.
    assert payments.apply_credit(ada, cur, actor=ACTOR) == book.credit
    card = accounts.add_payment_account(ada, {"kind": "card", "gateway": "test",
                                              "reference": "tok_visa_4242", "last4": "4242"},
                                        actor=ACTOR)  # fmt: skip
    paid = charges.pay_with_account(first, card, actor=ACTOR, principal=ACTOR, key="pay:first")
    assert (paid.status, paid.amount) == ("approved", book.first_invoice - book.credit)
    first.refresh_from_db()
    assert (first.status, first.amount_paid) == ("paid", book.first_invoice)
    assert credit(ada, cur) == 0
    site = services.provision(site, actor=ACTOR)
    assert site.status == "active"

    # January 20th: the Backup addon renews with the hosting, 21 of 31 days.
    addon = services.add_service(ada, pricing=backup_price, parent=site,
                                 start_on=date(2026, 1, 20), actor=ACTOR)  # fmt: skip
    assert addon.renew_date == site.renew_date == date(2026, 2, 10)
    assert addon.first_invoice.total == book.backup_prorated
    declined_card = accounts.add_payment_account(ada, {"kind": "card", "gateway": "test",
                                                       "reference": "tok_0002", "last4": "0002"},
                                                 actor=ACTOR)  # fmt: skip
    refused = charges.pay_with_account(addon.first_invoice, declined_card, actor=ACTOR,
                                       principal=ACTOR, key="pay:addon:1")  # fmt: skip
    declined_card.refresh_from_db()
    assert (refused.status, declined_card.failure_count) == ("declined", 1)
    charges.pay_with_account(
        addon.first_invoice, card, actor=ACTOR, principal=ACTOR, key="pay:addon:2"
    )
    addon.first_invoice.refresh_from_db()
    assert addon.first_invoice.status == "paid"
    addon = services.provision(addon, actor=ACTOR)

    # January 25th: upgrade to Pro (no disk option there), 16 of 31 days of the difference.
    up = services.change_service(site, pricing=pro_price, options={}, today=date(2026, 1, 25),
                                 actor=ACTOR)  # fmt: skip
    assert (up.status, up.invoice.total, up.credit_amount) == ("applied", book.upgrade, 0)
    site.refresh_from_db()
    assert site.package == pro and site.options.count() == 0
    charges.pay_with_account(up.invoice, card, actor=ACTOR, principal=ACTOR, key="pay:upgrade")

    # January 28th: back to Web Hosting with 2 x 10 GB. Her group gives no downgrade credit.
    down = services.change_service(site, pricing=host_price, options={disk.pk: (ten_gb.pk, 2)},
                                   today=date(2026, 1, 28), actor=ACTOR)  # fmt: skip
    assert (down.status, down.invoice, down.credit_amount) == ("applied", None, 0)
    assert credit(ada, cur) == 0
    assert book.downgrade_unpaid_credit > 0  # what a crediting group would have given back

    # January 30th: the group now credits downgrades; 1 x 10 GB instead of 2, 11 of 31 days.
    set_group_setting(group, "prorate_downgrade_credits", True, actor=ACTOR)
    less = services.change_service(site, options={disk.pk: (ten_gb.pk, 1)},
                                   today=date(2026, 1, 30), actor=ACTOR)  # fmt: skip
    assert less.credit_amount == book.option_credit
    assert credit(ada, cur) == book.option_credit

    # January 31st: ten days ahead, the engine invoices February 10th to March 10th for the
    # hosting, its 1 x 10 GB and the backup, on one invoice (the fourth); her credit pays
    # part of it.
    set_group_setting(group, "invoice_days_before_renewal", 10, actor=ACTOR)
    execute(AsOf(day=date(2026, 1, 31)), companies=[company], tasks=[renewal_invoices])
    renewal = Invoice.objects.get(client=ada, status="open")
    february = book.host + book.disk + book.backup
    assert (renewal.number, renewal.total, renewal.due_on) == (4, february, date(2026, 2, 10))
    assert sorted(ln.amount for ln in renewal.lines.all()) == sorted(
        [book.host, book.disk, book.backup])  # fmt: skip
    assert payments.apply_credit(ada, cur, actor=ACTOR) == book.option_credit
    assert balance(ada, cur) == (february - book.option_credit, 0)

    # February 1st: she cancels the backup. The invoice keeps its three lines and its total;
    # credit note 1 credits the backup's line, and she owes the rest less what she paid.
    services.cancel(addon, today=date(2026, 2, 1), reason="no backups", actor=ACTOR)
    renewal.refresh_from_db()
    assert (renewal.status, renewal.total, renewal.credited, renewal.amount_paid) == (
        "open", february, book.backup, book.option_credit)  # fmt: skip
    assert renewal.lines.count() == 3
    [backup_note] = renewal.credit_notes.all()
    assert (backup_note.number, backup_note.total, backup_note.issued_on) == (
        1, book.backup, date(2026, 2, 1))  # fmt: skip
    assert [ln.invoice_line.service_id for ln in backup_note.lines.all()] == [addon.pk]
    assert balance(ada, cur) == (book.host + book.disk - book.option_credit, 0)

    # Then the hosting: nothing else is left on the invoice, so credit note 2 credits the
    # rest and the invoice is void; what her credit paid on it is credit again.
    services.cancel(site, today=date(2026, 2, 1), reason="moving on", actor=ACTOR)
    site.refresh_from_db()
    addon.refresh_from_db()
    assert (site.status, addon.status) == ("canceled", "canceled")
    assert not Invoice.objects.filter(client=ada, status="open").exists()
    assert credit(ada, cur) == book.option_credit
    renewal.refresh_from_db()
    assert (renewal.status, renewal.total, renewal.credited, renewal.amount_paid) == (
        "void", february, february, 0)  # fmt: skip
    notes = renewal.credit_notes.order_by("number")
    assert [(n.number, n.total) for n in notes] == [(1, book.backup),
                                                   (2, book.host + book.disk)]  # fmt: skip
    assert balance(ada, cur) == (0, book.option_credit)
    events = list(site.history.order_by("at", "id").values_list("event", "to_status"))
    assert events[0] == ("order", "pending") and events[-1] == ("cancel", "canceled")
