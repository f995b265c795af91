"""The engine's invoicing keys, each as a story told over simulated days.

A key's story runs two setups that differ in that key only (two client groups, or two
clients of one group for the client-level keys) through the same days of the engine, and
shows what comes out differently: when invoices are issued and due, how many, their totals
to the minor unit, their lines, their status, how they are delivered, and what happens to
services and their changes. Other stories tell what holds whatever the keys: missed periods
caught up, voided periods never billed again, recurring invoices, term changes, addons and
queued changes ending with their service.

The shop: Web Hosting at 10.00 EUR a month (XL: 31.00), a Backup addon at 3.00, an Extra
disk option at 2.00 per 10 GB, and a US-dollar hosting at 12.00 USD. The company lives in
Europe/Berlin; the engine runs at noon there, once a day, as `groupbill simulate` does.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from groupbill import clock
from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS, renewal_invoices
from groupbill.automation.view import CompanyView
from groupbill.billing import invoices as invoice_actions
from groupbill.billing import payments, recurring
from groupbill.billing.models import Invoice
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.clients.actions import create_group
from groupbill.notices.models import OutboxMessage, PrintJob
from groupbill.provisioning import ModuleResult
from groupbill.provisioning import test as test_module
from groupbill.services import actions as services
from groupbill.services.models import BilledPeriod, Service
from groupbill.settings_catalog.actions import (
    set_client_setting,
    set_company_settings,
    set_group_setting,
    set_group_settings,
)
from tests.conftest import ACTOR

JAN10 = date(2026, 1, 10)


# --- The story tellers -------------------------------------------------------------------


def simulate(company, first: date, last: date, *, may_fail: bool = False) -> list[dict]:
    """Run every task of the engine once a day from `first` to `last` (both included), at
    noon in the company's time zone. No action may fail unless `may_fail`; the failed ones
    are returned (with the day), and no batch may have fallen back to one by one."""
    failures, day = [], first
    while day <= last:
        reports = execute(AsOf(day=day), companies=[company], tasks=TASKS)
        failed = [a | {"day": day} for r in reports for a in r.actions if a["outcome"] == "failed"]
        assert may_fail or not failed, failed
        # The set-based path did the work: a batch applied one by one means it failed.
        assert may_fail or not [r.name for r in reports if r.batches_one_by_one]
        failures += failed
        day += timedelta(days=1)
    return failures


@dataclass
class Shop:
    hosting: PackagePrice  # 10.00 EUR a month
    xl: PackagePrice  # 31.00 EUR a month
    backup: PackagePrice  # addon of both, 3.00 EUR a month
    hosting_usd: PackagePrice  # 12.00 USD a month
    disk: ConfigOption  # of Web Hosting
    ten_gb: ConfigOptionValue  # 2.00 EUR a month each


@pytest.fixture
def shop(company) -> Shop:
    def monthly(package, price, currency="EUR"):
        return PackagePrice.objects.create(
            package=package, unit="month", count=1, currency=currency, price=price
        )

    hosting = Package.objects.create(company=company, name="Web Hosting", module="test")
    xl = Package.objects.create(company=company, name="Web Hosting XL", module="test")
    backup = Package.objects.create(company=company, name="Backup", module="test")
    backup.addon_of.add(hosting, xl)
    disk = ConfigOption.objects.create(package=hosting, name="Extra disk", kind="quantity")
    ten_gb = ConfigOptionValue.objects.create(option=disk, name="10 GB")
    ConfigOptionPrice.objects.create(value=ten_gb, unit="month", count=1, currency="EUR",
                                     price=200)  # fmt: skip
    return Shop(
        hosting=monthly(hosting, 1000),
        xl=monthly(xl, 3100),
        backup=monthly(backup, 300),
        hosting_usd=monthly(hosting, 1200, "USD"),
        disk=disk,
        ten_gb=ten_gb,
    )


def group_with(company, name: str, **settings):
    """A client group holding these settings (everything else inherited)."""
    group = create_group(company, {"name": name}, actor=ACTOR)
    if settings:
        set_group_settings(group, settings, actor=ACTOR)
    return group


def active_service(client, pricing, on=JAN10, **kw) -> Service:
    """Ordered on `on`, its first invoice paid and provisioned by staff that day."""
    service = services.add_service(client, pricing=pricing, start_on=on, actor=ACTOR, **kw)
    first = service.first_invoice
    payments.pay_invoice(first, amount=first.total, actor=ACTOR)
    service = services.provision(service, actor=ACTOR)
    service.first_invoice = first
    return service


def invoices_of(client, *, after: Invoice | None = None) -> list[Invoice]:
    found = Invoice.objects.filter(client=client).order_by("pk")
    return list(found.filter(pk__gt=after.pk) if after is not None else found)


def summary(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    return (invoice.issued_on, invoice.due_on, invoice.total, invoice.status)


def lines(invoice: Invoice) -> list[tuple[str, int]]:
    return [(ln.description, ln.amount) for ln in invoice.lines.all()]


def balance(client) -> dict[str, tuple[int, int]]:
    """Per currency: what the client owes on open invoices, and their loose credit."""
    return {b.currency: (b.due, b.credit) for b in payments.balances([client.pk])[client.pk]}


def dated(label: str, first: str, last: str) -> str:
    """A line's label with its period, first and last day included, as invoices print it."""
    return f"{label} ({first} \u2013 {last})"


def noon(day: date) -> datetime:
    """The moment the engine runs on `day`: 12:00 in the company's time zone."""
    return datetime.combine(day, time(12), ZoneInfo("Europe/Berlin"))


def staff_on(day: date):
    """Staff act at 9:00 on `day`, before that day's engine run: what they record (e.g. when
    a service was suspended) carries that moment, as it would in real time."""
    return clock.frozen_at(datetime.combine(day, time(9), ZoneInfo("Europe/Berlin")))


def fresh(obj):
    obj.refresh_from_db()
    return obj


@pytest.fixture
def no_suspensions(company):
    """Nobody is suspended for not paying: keeps a story to the key it is about."""
    set_company_settings(company, {"suspend_services_days_after_due": "never"}, actor=ACTOR)


# --- invoice_days_before_renewal, catch-up, voided periods, recurring invoices -----------


def test_invoice_days_before_renewal_sets_the_day_a_renewal_is_invoiced(company, shop, make_client):
    """Ada's group invoices 14 days before renewal, Bea's 5. Both have hosting from January
    10th. Ada's February invoice is issued on January 27th, Bea's on February 5th; both are
    due on February 10th, the period's start, and the renew date moves on to March 10th the
    moment the invoice is made. March follows the same rule, and each period is invoiced
    once however many days the engine runs."""
    ada = make_client(group=group_with(company, "Early", invoice_days_before_renewal=14))
    bea = make_client(group=group_with(company, "Late", invoice_days_before_renewal=5),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    ada_site, bea_site = active_service(ada, shop.hosting), active_service(bea, shop.hosting)
    ada_first, bea_first = ada_site.first_invoice, bea_site.first_invoice

    simulate(company, JAN10, date(2026, 1, 26))
    assert invoices_of(ada, after=ada_first) == invoices_of(bea, after=bea_first) == []

    simulate(company, date(2026, 1, 27), date(2026, 1, 27))
    [ada_feb] = invoices_of(ada, after=ada_first)
    assert summary(ada_feb) == (date(2026, 1, 27), date(2026, 2, 10), 1000, "open")
    assert fresh(ada_site).renew_date == date(2026, 3, 10)
    assert fresh(bea_site).renew_date == date(2026, 2, 10)
    assert invoices_of(bea, after=bea_first) == []

    simulate(company, date(2026, 1, 28), date(2026, 3, 9))
    assert [summary(i) for i in invoices_of(ada, after=ada_first)] == [
        (date(2026, 1, 27), date(2026, 2, 10), 1000, "open"),
        (date(2026, 2, 24), date(2026, 3, 10), 1000, "open"),
    ]
    assert [summary(i) for i in invoices_of(bea, after=bea_first)] == [
        (date(2026, 2, 5), date(2026, 2, 10), 1000, "open"),
        (date(2026, 3, 5), date(2026, 3, 10), 1000, "open"),
    ]
    march = dated("Web Hosting", "Mar 10, 2026", "Apr 9, 2026")
    assert lines(invoices_of(bea)[-1]) == [(march, 1000)]
    assert (fresh(ada_site).renew_date, fresh(bea_site).renew_date) == (
        date(2026, 4, 10),
        date(2026, 4, 10),
    )


def test_a_renewal_is_due_by_its_own_groups_lead_not_the_largest(company, shop, make_client):
    """On January 28th Bea's renewal (February 10th) is 13 days away: within the Early
    group's 14 days but not her group's 5. The renewal task does not count her as due, so
    a run plans no shard for her (with the largest lead for all, every client of a
    short-lead group was planned for nothing on each of those days)."""
    ada = make_client(group=group_with(company, "Early", invoice_days_before_renewal=14))
    bea = make_client(group=group_with(company, "Late", invoice_days_before_renewal=5),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    active_service(ada, shop.hosting), active_service(bea, shop.hosting)
    simulate(company, JAN10, date(2026, 1, 27))
    view = CompanyView.load(company, noon(date(2026, 1, 28)))
    due = {
        c for part in renewal_invoices.due(view) for c in part.values_list("client_id", flat=True)
    }
    assert bea.pk not in due
    later = CompanyView.load(company, noon(date(2026, 2, 5)))
    due = {
        c for part in renewal_invoices.due(later) for c in part.values_list("client_id", flat=True)
    }
    assert bea.pk in due


def test_missed_periods_are_caught_up_one_invoice_per_period(company, shop, make_client):
    """The engine runs on January 10th and then not again until April 20th. That run issues
    one invoice for each period it missed - February 10th, March 10th and April 10th - all
    dated April 20th and each due on its own period's start (its lines say which period).
    Running again issues nothing more; May is invoiced on May 5th as usual."""
    ada = make_client(group=group_with(company, "Ordinary"))
    site = active_service(ada, shop.hosting)
    simulate(company, JAN10, JAN10)

    simulate(company, date(2026, 4, 20), date(2026, 4, 21))
    caught_up = invoices_of(ada, after=site.first_invoice)
    assert [summary(i) for i in caught_up] == [
        (date(2026, 4, 20), date(2026, 2, 10), 1000, "open"),
        (date(2026, 4, 20), date(2026, 3, 10), 1000, "open"),
        (date(2026, 4, 20), date(2026, 4, 10), 1000, "open"),
    ]
    assert [lines(i) for i in caught_up] == [
        [(dated("Web Hosting", "Feb 10, 2026", "Mar 9, 2026"), 1000)],
        [(dated("Web Hosting", "Mar 10, 2026", "Apr 9, 2026"), 1000)],
        [(dated("Web Hosting", "Apr 10, 2026", "May 9, 2026"), 1000)],
    ]
    assert [i.number for i in caught_up] == [2, 3, 4]  # issued in period order
    assert fresh(site).renew_date == date(2026, 5, 10)

    simulate(company, date(2026, 4, 22), date(2026, 5, 5))
    [may] = invoices_of(ada, after=caught_up[-1])
    assert summary(may) == (date(2026, 5, 5), date(2026, 5, 10), 1000, "open")


def test_a_renewal_invoice_staff_voided_is_never_issued_again(company, shop, make_client):
    """February's renewal invoice is issued on February 5th; staff void it on the 6th (a
    goodwill month). The engine keeps running every day: February is never billed again,
    and March is invoiced on March 5th as usual."""
    ada = make_client(group=group_with(company, "Ordinary"))
    site = active_service(ada, shop.hosting)
    simulate(company, JAN10, date(2026, 2, 5))
    [feb] = invoices_of(ada, after=site.first_invoice)
    invoice_actions.void_invoice(feb, actor=ACTOR, reason="goodwill")

    simulate(company, date(2026, 2, 6), date(2026, 3, 12))
    assert [summary(i) for i in invoices_of(ada, after=site.first_invoice)] == [
        (date(2026, 2, 5), date(2026, 2, 10), 1000, "void"),
        (date(2026, 3, 5), date(2026, 3, 10), 1000, "open"),
    ]
    periods = BilledPeriod.objects.filter(service=site).values_list("period", "invoice__status")
    assert list(periods) == [(0, "paid"), (1, "void"), (2, "open")]


RETAINER = [{"description": "Support retainer", "unit_amount": 5000},
            {"description": "Monitoring", "unit_amount": 1000, "quantity": 3}]  # fmt: skip


def test_recurring_invoices_follow_invoice_days_before_renewal(company, make_client):
    """Staff set up the same monthly support retainer (50.00 + 3 x 10.00) from February 1st
    for Ada (her group invoices 10 days ahead) and Bea (3 days ahead). Ada's invoices are
    issued on January 22nd and February 19th, Bea's on January 29th and February 26th; all
    are due on their period's start. Staff void Ada's February invoice: it is never issued
    again, and her March one comes as usual."""
    ada = make_client(group=group_with(company, "Early", invoice_days_before_renewal=10))
    bea = make_client(group=group_with(company, "Late", invoice_days_before_renewal=3),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    for client in (ada, bea):
        recurring.create_recurring(client, {"unit": "month", "start_on": "2026-02-01"},
                                   RETAINER, actor=ACTOR)  # fmt: skip

    simulate(company, date(2026, 1, 15), date(2026, 1, 22))
    [ada_feb] = invoices_of(ada)
    assert summary(ada_feb) == (date(2026, 1, 22), date(2026, 2, 1), 8000, "open")
    assert lines(ada_feb) == [
        (dated("Support retainer", "Feb 1, 2026", "Feb 28, 2026"), 5000),
        (dated("Monitoring", "Feb 1, 2026", "Feb 28, 2026"), 3000),
    ]
    invoice_actions.void_invoice(ada_feb, actor=ACTOR, reason="billed elsewhere")

    simulate(company, date(2026, 1, 23), date(2026, 3, 1))
    assert [summary(i) for i in invoices_of(ada)] == [
        (date(2026, 1, 22), date(2026, 2, 1), 8000, "void"),
        (date(2026, 2, 19), date(2026, 3, 1), 8000, "open"),
    ]
    assert [summary(i) for i in invoices_of(bea)] == [
        (date(2026, 1, 29), date(2026, 2, 1), 8000, "open"),
        (date(2026, 2, 26), date(2026, 3, 1), 8000, "open"),
    ]


def test_missed_recurring_periods_are_caught_up_by_the_simulate_command(company, make_client):
    """A weekly recurring invoice started on March 2nd, but the engine first runs (through
    the `simulate --commit` command) on March 20th: that day issues the three weeks that started by
    then plus the one starting within the 5-day lead, each due on its week's start; the
    next days add only the week of March 30th (on the 25th). The command exits 0."""
    from django.core.management import call_command

    ada = make_client(group=group_with(company, "Ordinary"))
    recurring.create_recurring(ada, {"unit": "week", "start_on": "2026-03-02"},
                               [{"description": "Cleaning", "unit_amount": 2500}],
                               actor=ACTOR)  # fmt: skip
    with pytest.raises(SystemExit) as done:
        call_command("simulate", "--from", "2026-03-20", "--to", "2026-03-25", "--commit")
    assert done.value.code == 0
    assert [summary(i) for i in invoices_of(ada)] == [
        (date(2026, 3, 20), date(2026, 3, 2), 2500, "open"),
        (date(2026, 3, 20), date(2026, 3, 9), 2500, "open"),
        (date(2026, 3, 20), date(2026, 3, 16), 2500, "open"),
        (date(2026, 3, 20), date(2026, 3, 23), 2500, "open"),
        (date(2026, 3, 25), date(2026, 3, 30), 2500, "open"),
    ]


# --- invoice_services_together -----------------------------------------------------------


def test_invoice_services_together_groups_a_clients_renewals_by_day_and_currency(
    company, shop, make_client
):
    """Ada and Bea each have, from January 10th, a hosting, a second hosting with 1 x 10 GB
    extra disk and a US-dollar hosting; on the 15th another hosting; on the 20th a Backup
    addon on the first hosting, which is prorated to renew with it. Ada's group invoices
    services together: on February 5th one EUR invoice holds everything renewing on the
    10th (addon included) and one USD invoice the dollar hosting; the hosting renewing on
    the 15th gets its own invoice on the 10th. Bea's group does not: each service renewing
    gets an invoice of its own."""
    together = group_with(company, "Together")
    apart = group_with(company, "Apart", invoice_services_together=False)
    made = {}
    for name, group in (("Ada", together), ("Bea", apart)):
        client = make_client(group=group, first_name=name, email=f"{name.lower()}@example.com")
        main = active_service(client, shop.hosting)
        active_service(client, shop.hosting, options={shop.disk.pk: (shop.ten_gb.pk, 1)})
        active_service(client, shop.hosting_usd)
        active_service(client, shop.hosting, on=date(2026, 1, 15))
        addon = active_service(client, shop.backup, on=date(2026, 1, 20), parent=main)
        assert (addon.renew_date, addon.first_invoice.total) == (date(2026, 2, 10), 203)
        made[name] = (client, addon.first_invoice)

    simulate(company, JAN10, date(2026, 2, 15))

    ada, last_order = made["Ada"]
    feb = invoices_of(ada, after=last_order)
    assert [(i.currency, *summary(i)) for i in feb] == [
        ("EUR", date(2026, 2, 5), date(2026, 2, 10), 2500, "open"),
        ("USD", date(2026, 2, 5), date(2026, 2, 10), 1200, "open"),
        ("EUR", date(2026, 2, 10), date(2026, 2, 15), 1000, "open"),
    ]
    assert lines(feb[0]) == [
        (dated("Web Hosting", "Feb 10, 2026", "Mar 9, 2026"), 1000),
        (dated("Web Hosting", "Feb 10, 2026", "Mar 9, 2026"), 1000),
        ("Extra disk: 10 GB", 200),
        (dated("Backup", "Feb 10, 2026", "Mar 9, 2026"), 300),
    ]

    bea, last_order = made["Bea"]
    assert [(i.currency, *summary(i)) for i in invoices_of(bea, after=last_order)] == [
        ("EUR", date(2026, 2, 5), date(2026, 2, 10), 1000, "open"),
        ("EUR", date(2026, 2, 5), date(2026, 2, 10), 1200, "open"),
        ("EUR", date(2026, 2, 5), date(2026, 2, 10), 300, "open"),
        ("USD", date(2026, 2, 5), date(2026, 2, 10), 1200, "open"),
        ("EUR", date(2026, 2, 10), date(2026, 2, 15), 1000, "open"),
    ]


# --- invoice_suspended_services ----------------------------------------------------------


def test_invoice_suspended_services_bills_or_skips_periods_starting_while_suspended(
    company, shop, make_client, no_suspensions
):
    """Staff suspend Ada's and Bea's hosting on January 20th (an abuse report) and lift the
    suspension on March 15th. Ada's group invoices suspended services: February, March and
    April are invoiced as usual. Bea's does not: the periods starting on February 10th and
    March 10th, while suspended, are skipped and stay unbilled after the suspension ends;
    April, which starts after it, is invoiced on April 5th."""
    ada = make_client(group=group_with(company, "Bill"))
    bea = make_client(group=group_with(company, "Skip", invoice_suspended_services=False),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    sites = [active_service(ada, shop.hosting), active_service(bea, shop.hosting)]
    simulate(company, JAN10, date(2026, 1, 19))
    with staff_on(date(2026, 1, 20)):
        for site in sites:
            services.suspend(site, actor=ACTOR, reason="abuse report")
    simulate(company, date(2026, 1, 20), date(2026, 3, 14))
    with staff_on(date(2026, 3, 15)):
        for site in sites:
            services.unsuspend(site, actor=ACTOR, reason="resolved")
    simulate(company, date(2026, 3, 15), date(2026, 4, 12))

    ada_site, bea_site = sites
    assert [summary(i) for i in invoices_of(ada, after=ada_site.first_invoice)] == [
        (date(2026, 2, 5), date(2026, 2, 10), 1000, "open"),
        (date(2026, 3, 5), date(2026, 3, 10), 1000, "open"),
        (date(2026, 4, 5), date(2026, 4, 10), 1000, "open"),
    ]
    assert [summary(i) for i in invoices_of(bea, after=bea_site.first_invoice)] == [
        (date(2026, 4, 5), date(2026, 4, 10), 1000, "open"),
    ]
    skipped = BilledPeriod.objects.filter(service=bea_site).order_by("period")
    assert list(skipped.values_list("start", "skipped", "invoice")) == [
        (JAN10, False, bea_site.first_invoice.pk),
        (date(2026, 2, 10), True, None),
        (date(2026, 3, 10), True, None),
        (date(2026, 4, 10), False, invoices_of(bea)[-1].pk),
    ]


def test_a_period_is_skipped_only_if_it_starts_while_suspended(
    company, shop, make_client, no_suspensions
):
    """Staff suspend Ada's and Bea's hosting on February 1st and lift it on February 7th,
    before the period of February 10th starts. Ada's group (invoicing suspended services)
    issues February's invoice on the 5th as usual. Bea's group does not invoice suspended
    services, but this period does not start while suspended: its invoice waits while the
    service is suspended and is issued on the 7th, due on the 10th - it is not skipped."""
    ada = make_client(group=group_with(company, "Bill"))
    bea = make_client(group=group_with(company, "Skip", invoice_suspended_services=False),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    sites = [active_service(ada, shop.hosting), active_service(bea, shop.hosting)]
    simulate(company, JAN10, date(2026, 1, 31))
    with staff_on(date(2026, 2, 1)):
        for site in sites:
            services.suspend(site, actor=ACTOR, reason="abuse report")
    simulate(company, date(2026, 2, 1), date(2026, 2, 6))
    assert invoices_of(bea, after=sites[1].first_invoice) == []
    assert not BilledPeriod.objects.filter(service=sites[1], period=1).exists()
    with staff_on(date(2026, 2, 7)):
        for site in sites:
            services.unsuspend(site, actor=ACTOR, reason="resolved")
    simulate(company, date(2026, 2, 7), date(2026, 2, 12))

    assert [summary(i) for i in invoices_of(ada, after=sites[0].first_invoice)] == [
        (date(2026, 2, 5), date(2026, 2, 10), 1000, "open"),
    ]
    assert [summary(i) for i in invoices_of(bea, after=sites[1].first_invoice)] == [
        (date(2026, 2, 7), date(2026, 2, 10), 1000, "open"),
    ]


def test_caught_up_periods_are_skipped_only_from_the_suspension_on(
    company, shop, make_client, no_suspensions
):
    """The engine runs on January 10th and then not until April 20th. Meanwhile, on March
    20th, staff suspend Ada's and Bea's hosting. Ada's group invoices suspended services:
    the catch-up bills February, March and April. Bea's does not, but only April started
    while her hosting was suspended: February and March are billed, April is skipped."""
    ada = make_client(group=group_with(company, "Bill"))
    bea = make_client(group=group_with(company, "Skip", invoice_suspended_services=False),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    sites = [active_service(ada, shop.hosting), active_service(bea, shop.hosting)]
    simulate(company, JAN10, JAN10)
    with staff_on(date(2026, 3, 20)):
        for site in sites:
            services.suspend(site, actor=ACTOR, reason="abuse report")
    simulate(company, date(2026, 4, 20), date(2026, 4, 20))

    ada_site, bea_site = sites
    assert [summary(i)[1:3] for i in invoices_of(ada, after=ada_site.first_invoice)] == [
        (date(2026, 2, 10), 1000),
        (date(2026, 3, 10), 1000),
        (date(2026, 4, 10), 1000),
    ]
    assert [summary(i)[1:3] for i in invoices_of(bea, after=bea_site.first_invoice)] == [
        (date(2026, 2, 10), 1000),
        (date(2026, 3, 10), 1000),
    ]
    rows = BilledPeriod.objects.filter(service=bea_site).order_by("period")
    assert list(rows.values_list("start", "skipped")) == [
        (JAN10, False),
        (date(2026, 2, 10), False),
        (date(2026, 3, 10), False),
        (date(2026, 4, 10), True),
    ]


# --- show_option_date_ranges -------------------------------------------------------------


def test_show_option_date_ranges_dates_the_option_lines_too(company, shop, make_client):
    """Ada and Bea read German and have hosting with 2 x 10 GB extra disk. Their February
    renewal invoices show the period on the hosting line, formatted for German readers;
    only in Bea's group, which shows option date ranges, does the disk line show it too."""
    plain = group_with(company, "Plain")
    with_dates = group_with(company, "Dated", show_option_date_ranges=True)
    ada = make_client(group=plain, language="de")
    bea = make_client(group=with_dates, language="de", first_name="Bea", email="bea@example.com")
    disk = {shop.disk.pk: (shop.ten_gb.pk, 2)}
    ada_site = active_service(ada, shop.hosting, options=disk)
    bea_site = active_service(bea, shop.hosting, options=disk)

    simulate(company, JAN10, date(2026, 2, 5))
    [ada_feb] = invoices_of(ada, after=ada_site.first_invoice)
    [bea_feb] = invoices_of(bea, after=bea_site.first_invoice)
    assert lines(ada_feb) == [
        (dated("Web Hosting", "10.02.2026", "09.03.2026"), 1000),
        ("Extra disk: 10 GB", 400),
    ]
    assert lines(bea_feb) == [
        (dated("Web Hosting", "10.02.2026", "09.03.2026"), 1000),
        (dated("Extra disk: 10 GB", "10.02.2026", "09.03.2026"), 400),
    ]
    assert ada_feb.total == bea_feb.total == 1400


# --- void_invoices_on_cancel, void_on_cancel_max_days_past_due ---------------------------


def _cancel_at_end_of_term(site, on: date) -> None:
    services.cancel(site, today=on, when="end_of_term", reason="moving on", actor=ACTOR)


def test_void_invoices_on_cancel_at_a_scheduled_end_of_term_cancellation(
    company, shop, make_client, no_suspensions
):
    """Ada and Bea each have two hostings from January 10th, invoiced together: February's
    invoice (20.00, due February 10th) is left unpaid. On February 12th each asks to cancel
    the first hosting at the end of its term, March 10th. March's invoice (March 5th) holds
    only the second hosting. On March 10th the engine cancels the first hosting. Ada's group
    voids a cancelled service's open invoices (at any days past due): a credit note credits
    that hosting's line on her February invoice, which keeps its 20.00 total and asks 10.00.
    Bea's group does not void: hers asks 20.00. Nothing is billed for the cancelled hosting
    after its term."""
    ada = make_client(group=group_with(company, "Void", void_on_cancel_max_days_past_due="any"))
    bea = make_client(
        group=group_with(company, "Keep", void_invoices_on_cancel=False,
                         void_on_cancel_max_days_past_due="any"),
        first_name="Bea", email="bea@example.com",
    )  # fmt: skip
    pairs = {c.pk: (active_service(c, shop.hosting), active_service(c, shop.hosting))
             for c in (ada, bea)}  # fmt: skip
    simulate(company, JAN10, date(2026, 2, 11))
    for first, _ in pairs.values():
        _cancel_at_end_of_term(first, date(2026, 2, 12))
        assert fresh(first).cancel_at == date(2026, 3, 10)
    simulate(company, date(2026, 2, 12), date(2026, 4, 10))

    for client, feb_credited in ((ada, 1000), (bea, 0)):
        first, second = pairs[client.pk]
        feb, mar, apr = invoices_of(client, after=second.first_invoice)
        assert summary(feb) == (date(2026, 2, 5), date(2026, 2, 10), 2000, "open")
        assert (feb.credited, feb.balance_due) == (feb_credited, 2000 - feb_credited)
        assert summary(mar) == (date(2026, 3, 5), date(2026, 3, 10), 1000, "open")
        assert summary(apr) == (date(2026, 4, 5), date(2026, 4, 10), 1000, "open")
        assert {ln.service_id for ln in (mar.lines.all() | apr.lines.all())} == {second.pk}
        assert fresh(first).status == "canceled" and fresh(second).status == "active"
    feb_lines = invoices_of(ada)[2].lines.all()
    assert [ln.service_id for ln in feb_lines] == [s.pk for s in pairs[ada.pk]]  # both kept
    credited = feb_lines.filter(credit_line__isnull=False)
    assert [ln.service_id for ln in credited] == [pairs[ada.pk][0].pk]
    assert ("cancel", pairs[ada.pk][0].pk) in [(a, s) for a, s, _ in test_module.calls]


def test_void_on_cancel_max_days_past_due_at_a_scheduled_cancellation(
    company, shop, make_client, no_suspensions
):
    """Four clients with hosting from January 10th leave February's invoice (due February
    10th) unpaid and, on February 12th, ask to cancel at the end of the term: the engine
    cancels on March 10th, when that invoice is 28 days past due. It is voided only where
    the group allows voiding that late: with a limit of 0 (the default) or 27 days it stays
    open, with 28 days or "any" it is voided."""
    outcomes = {0: "open", 27: "open", 28: "void", "any": "void"}
    clients = {}
    for limit in outcomes:
        group = group_with(company, f"Limit {limit}", void_on_cancel_max_days_past_due=limit)
        client = make_client(group=group, email=f"c{limit}@example.com")
        clients[limit] = (client, active_service(client, shop.hosting))
    simulate(company, JAN10, date(2026, 2, 11))
    for _, site in clients.values():
        _cancel_at_end_of_term(site, date(2026, 2, 12))
    simulate(company, date(2026, 2, 12), date(2026, 3, 9))
    for _, site in clients.values():
        assert fresh(site).status == "active"
    simulate(company, date(2026, 3, 10), date(2026, 3, 12))

    for limit, expected in outcomes.items():
        client, site = clients[limit]
        [feb] = invoices_of(client, after=site.first_invoice)
        assert summary(feb) == (date(2026, 2, 5), date(2026, 2, 10), 1000, expected), limit
        assert (fresh(site).status, site.cancel_reason) == ("canceled", "moving on")
        assert site.canceled_at == noon(date(2026, 3, 10))  # the engine run's moment


# --- delivery_methods, invoice_method ----------------------------------------------------


def delivered(client) -> list[tuple]:
    """How each of the client's invoices went out: (method, outbox template, print job)."""
    out = []
    for invoice in invoices_of(client):
        message = OutboxMessage.objects.filter(key=f"invoice:{invoice.pk}:delivery").first()
        job = PrintJob.objects.filter(invoice=invoice).first()
        out.append((invoice.delivery_method, message and message.template, job and job.status))
    return out


def test_delivery_methods_without_paper_fall_back_to_email(company, shop, make_client):
    """The company offers email and paper and sends invoices on paper. Bea's group inherits
    that: her order invoice (paid) and her February invoice wait in the print queue and no
    email is queued. Ada's group offers email only (paper taken out of the methods), so
    hers fall back to email: one outbox message each, to her primary contact."""
    set_company_settings(company, {"delivery_methods": ["email", "paper"],
                                   "invoice_method": "paper"}, actor=ACTOR)  # fmt: skip
    ada = make_client(group=group_with(company, "Email only", delivery_methods=["email"]))
    bea = make_client(group=group_with(company, "As the company"),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    active_service(ada, shop.hosting)
    active_service(bea, shop.hosting)

    simulate(company, JAN10, date(2026, 2, 5))
    assert delivered(ada) == [("email", "invoice_paid", None), ("email", "invoice_unpaid", None)]
    assert delivered(bea) == [("paper", None, "queued"), ("paper", None, "queued")]
    email = OutboxMessage.objects.get(key=f"invoice:{invoices_of(ada)[1].pk}:delivery")
    assert email.recipients == [{"name": "Ada Lovelace", "email": "ada@example.com"}]
    assert (email.context["total"], email.context["due_on"]) == (1000, "2026-02-10")
    assert [fresh(i).delivered_at.date() for i in invoices_of(bea)] == [JAN10, date(2026, 2, 5)]


def test_invoice_method_of_the_group_chooses_email_or_the_print_queue(company, shop, make_client):
    """Both groups offer email and paper. Ada's group keeps email: her invoices are emailed.
    Bea's group sends paper: hers wait in the print queue, and no email is queued. Each
    invoice is delivered once, on the day it is issued, however often the engine runs."""
    both = ["email", "paper"]
    ada = make_client(group=group_with(company, "Email", delivery_methods=both))
    bea = make_client(group=group_with(company, "Paper", delivery_methods=both,
                                       invoice_method="paper"),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    active_service(ada, shop.hosting)
    active_service(bea, shop.hosting)

    simulate(company, JAN10, date(2026, 3, 5))
    assert (
        delivered(ada)
        == [("email", "invoice_paid", None)] + [("email", "invoice_unpaid", None)] * 2
    )
    assert delivered(bea) == [("paper", None, "queued")] * 3
    assert OutboxMessage.objects.filter(client=bea, key__endswith=":delivery").count() == 0
    assert [i.delivered_at.date() for i in invoices_of(bea)[1:]] == [
        date(2026, 2, 5),
        date(2026, 3, 5),
    ]


def test_invoice_method_of_a_client_and_its_fallback_when_paper_is_withdrawn(
    company, shop, make_client
):
    """Ada and Bea are in one group that offers email and paper, email by default; Bea chose
    paper for herself. Their order invoices go by email and by paper. On February 1st the
    group stops offering paper: Bea's February invoice falls back to email, while her
    January invoice keeps the paper delivery it had (the method is decided, and recorded,
    when an invoice is delivered). Ada is not affected."""
    group = group_with(company, "Both", delivery_methods=["email", "paper"])
    ada = make_client(group=group)
    bea = make_client(group=group, first_name="Bea", email="bea@example.com")
    set_client_setting(bea, "invoice_method", "paper", actor=ACTOR)
    active_service(ada, shop.hosting)
    active_service(bea, shop.hosting)

    simulate(company, JAN10, date(2026, 1, 31))
    assert delivered(ada) == [("email", "invoice_paid", None)]
    assert delivered(bea) == [("paper", None, "queued")]
    set_group_setting(group, "delivery_methods", ["email"], actor=ACTOR)
    simulate(company, date(2026, 2, 1), date(2026, 2, 5))
    assert delivered(ada) == [("email", "invoice_paid", None), ("email", "invoice_unpaid", None)]
    assert delivered(bea) == [("paper", None, "queued"), ("email", "invoice_unpaid", None)]


# --- auto_apply_credits ------------------------------------------------------------------


def test_auto_apply_credits_spends_loose_credit_on_renewals(company, shop, make_client):
    """Ada and Bea each get 15.00 EUR of credit from staff on January 12th (and 5.00 USD,
    which no EUR invoice can use). Ada's group applies credit automatically: her February
    invoice (10.00) is paid from it on February 5th - so the module renews her hosting -
    and March's gets the remaining 5.00. Bea's group does not: her invoices stay unpaid
    and her credit stays whole."""
    ada = make_client(group=group_with(company, "Apply"))
    bea = make_client(group=group_with(company, "Keep", auto_apply_credits=False),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    sites = {}
    for client in (ada, bea):
        sites[client.pk] = active_service(client, shop.hosting)
        for amount, currency in ((1500, "EUR"), (500, "USD")):
            payments.add_credit(client, amount=amount, currency=currency, actor=ACTOR)

    simulate(company, JAN10, date(2026, 3, 5))

    def renewals(client):
        return [
            (i.due_on, i.total, i.amount_paid, i.status)
            for i in invoices_of(client, after=sites[client.pk].first_invoice)
        ]

    assert renewals(ada) == [
        (date(2026, 2, 10), 1000, 1000, "paid"),
        (date(2026, 3, 10), 1000, 500, "open"),
    ]
    assert balance(ada) == {"EUR": (500, 0), "USD": (0, 500)}
    assert renewals(bea) == [
        (date(2026, 2, 10), 1000, 0, "open"),
        (date(2026, 3, 10), 1000, 0, "open"),
    ]
    assert balance(bea) == {"EUR": (2000, 1500), "USD": (0, 500)}
    renewed = [sid for action, sid, _ in test_module.calls if action == "renew"]
    assert renewed == [sites[ada.pk].pk]


# --- auto_provision_paid_pending ---------------------------------------------------------


def test_auto_provision_paid_pending_activates_a_service_once_paid(company, shop, make_client):
    """Ada and Bea order hosting on January 10th and pay on the 12th. In Ada's group the
    engine provisions paid pending services: her hosting is added through its module and
    activated that day, and renews as usual (February's invoice on the 5th). In Bea's group
    it is not: her hosting stays pending for staff to provision, no module is called, and a
    pending service is not renewed."""
    ada = make_client(group=group_with(company, "Auto"))
    bea = make_client(group=group_with(company, "By hand", auto_provision_paid_pending=False),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    orders = {c.pk: services.add_service(c, pricing=shop.hosting, start_on=JAN10, actor=ACTOR)
              for c in (ada, bea)}  # fmt: skip
    simulate(company, JAN10, date(2026, 1, 11))
    for service in orders.values():
        assert fresh(service).status == "pending"
        payments.pay_invoice(service.first_invoice, amount=1000, actor=ACTOR)

    simulate(company, date(2026, 1, 12), date(2026, 1, 12))
    ada_site, bea_site = fresh(orders[ada.pk]), fresh(orders[bea.pk])
    assert (ada_site.status, bea_site.status) == ("active", "pending")
    assert test_module.calls == [("add", ada_site.pk, f"service:{ada_site.pk}:add:1")]
    assert ada_site.history.filter(event="add").get().actor == "engine"

    simulate(company, date(2026, 1, 13), date(2026, 2, 5))
    assert [summary(i) for i in invoices_of(ada)] == [
        (JAN10, JAN10, 1000, "paid"),
        (date(2026, 2, 5), date(2026, 2, 10), 1000, "open"),
    ]
    assert [summary(i) for i in invoices_of(bea)] == [(JAN10, JAN10, 1000, "paid")]
    assert fresh(bea_site).status == "pending"


def test_a_module_refusing_to_provision_is_asked_again_the_next_day(company, shop, make_client):
    """Ada pays her order on January 10th, but the hosting panel refuses to add the service
    that day: the engine reports the failure and leaves the service pending. On the 11th it
    asks again, with the same idempotency key, and the service is active."""
    ada = make_client(group=group_with(company, "Auto"))
    order = services.add_service(ada, pricing=shop.hosting, start_on=JAN10, actor=ACTOR)
    payments.pay_invoice(order.first_invoice, amount=1000, actor=ACTOR)
    test_module.script(order.pk, "add", ModuleResult(False, "panel down"))

    [failure] = simulate(company, JAN10, JAN10, may_fail=True)
    assert (failure["key"], failure["day"]) == (f"provision:{order.pk}", JAN10)
    assert "panel down" in failure["error"]
    assert fresh(order).status == "pending"
    simulate(company, date(2026, 1, 11), date(2026, 1, 11))
    assert fresh(order).status == "active"
    assert test_module.calls == [("add", order.pk, f"service:{order.pk}:add:1")] * 2


# --- queue_service_changes_until_paid, cancel_service_changes_days_after_due -------------


def test_queue_service_changes_until_paid_holds_an_unpaid_upgrade(company, shop, make_client):
    """On January 25th Ada and Bea upgrade their hosting to XL and do not pay the prorated
    difference (21.00 x 16/31 = 10.84, due that day). Ada's group does not queue changes:
    she is on XL at once, and a week later (February 1st) the unpaid invoice gets her
    hosting suspended; February is invoiced at the XL price. Bea's group queues changes
    until paid: she stays on Web Hosting, her unpaid change is cancelled after 7 days
    (February 1st, its invoice voided) without suspending anything, and February is
    invoiced at the Web Hosting price."""
    ada = make_client(group=group_with(company, "At once"))
    bea = make_client(group=group_with(company, "Queued", queue_service_changes_until_paid=True),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    sites = {c.pk: active_service(c, shop.hosting) for c in (ada, bea)}
    simulate(company, JAN10, date(2026, 1, 24))
    changes = {
        pk: services.change_service(site, pricing=shop.xl, options={},
                                    today=date(2026, 1, 25), actor=ACTOR)
        for pk, site in sites.items()
    }  # fmt: skip
    assert (changes[ada.pk].status, changes[bea.pk].status) == ("applied", "queued")
    simulate(company, date(2026, 1, 25), date(2026, 1, 31))
    assert (fresh(sites[ada.pk]).package.name, fresh(sites[bea.pk]).package.name) == (
        "Web Hosting XL",
        "Web Hosting",
    )
    assert fresh(changes[bea.pk]).status == "queued"

    simulate(company, date(2026, 2, 1), date(2026, 2, 5))
    ada_site, bea_site = fresh(sites[ada.pk]), fresh(sites[bea.pk])
    assert (ada_site.status, ada_site.package.name) == ("suspended", "Web Hosting XL")
    assert (bea_site.status, bea_site.package.name) == ("active", "Web Hosting")
    assert fresh(changes[bea.pk]).status == "canceled"
    assert [summary(i) for i in invoices_of(ada, after=ada_site.first_invoice)] == [
        (date(2026, 1, 25), date(2026, 1, 25), 1084, "open"),
        (date(2026, 2, 5), date(2026, 2, 10), 3100, "open"),
    ]
    assert [summary(i) for i in invoices_of(bea, after=sites[bea.pk].first_invoice)] == [
        (date(2026, 1, 25), date(2026, 1, 25), 1084, "void"),
        (date(2026, 2, 5), date(2026, 2, 10), 1000, "open"),
    ]
    calls = [(action, sid) for action, sid, _ in test_module.calls if action != "add"]
    assert calls == [("change_package", ada_site.pk), ("suspend", ada_site.pk)]


def test_cancel_service_changes_days_after_due_gives_an_unpaid_change_its_time(
    company, shop, make_client
):
    """Ada's and Bea's groups queue changes until paid; Ada's cancels a change unpaid 3 days
    after its due date, Bea's after 10. Both upgrade to XL on January 25th (10.84 due that
    day) and pay 5.00 of it on the 26th. Ada's change is cancelled on the 28th: the invoice
    is voided and her 5.00 goes back to her as credit, which pays part of February's
    invoice (10.00) on February 5th. Bea's change is still waiting on the 28th; she pays
    the rest on the 30th and the engine applies it that day: she is on XL, and February is
    invoiced at 31.00."""
    queued = {"queue_service_changes_until_paid": True}
    ada = make_client(
        group=group_with(company, "Three days", **queued, cancel_service_changes_days_after_due=3)
    )
    bea = make_client(group=group_with(company, "Ten days", **queued,
                                       cancel_service_changes_days_after_due=10),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    sites = {c.pk: active_service(c, shop.hosting) for c in (ada, bea)}
    simulate(company, JAN10, date(2026, 1, 24))
    changes = {
        pk: services.change_service(site, pricing=shop.xl, options={},
                                    today=date(2026, 1, 25), actor=ACTOR)
        for pk, site in sites.items()
    }  # fmt: skip
    simulate(company, date(2026, 1, 25), date(2026, 1, 25))
    for change in changes.values():
        payments.pay_invoice(change.invoice, amount=500, actor=ACTOR)
    simulate(company, date(2026, 1, 26), date(2026, 1, 27))
    assert {c.status for c in map(fresh, changes.values())} == {"queued"}

    simulate(company, date(2026, 1, 28), date(2026, 1, 29))
    ada_change, bea_change = fresh(changes[ada.pk]), fresh(changes[bea.pk])
    assert (ada_change.status, bea_change.status) == ("canceled", "queued")
    assert ada_change.resolved_at == noon(date(2026, 1, 28))
    assert (fresh(ada_change.invoice).status, fresh(ada_change.invoice).amount_paid) == ("void", 0)
    assert balance(ada) == {"EUR": (0, 500)}

    payments.pay_invoice(bea_change.invoice, amount=584, actor=ACTOR)
    simulate(company, date(2026, 1, 30), date(2026, 1, 30))
    assert (fresh(bea_change).status, bea_change.resolved_at) == (
        "applied",
        noon(date(2026, 1, 30)),
    )
    assert fresh(sites[bea.pk]).package.name == "Web Hosting XL"
    assert fresh(sites[ada.pk]).package.name == "Web Hosting"

    simulate(company, date(2026, 1, 31), date(2026, 2, 5))
    [ada_feb] = invoices_of(ada, after=ada_change.invoice)
    [bea_feb] = invoices_of(bea, after=bea_change.invoice)
    assert (summary(ada_feb), ada_feb.amount_paid) == (
        (date(2026, 2, 5), date(2026, 2, 10), 1000, "open"),
        500,
    )
    assert (summary(bea_feb), bea_feb.amount_paid) == (
        (date(2026, 2, 5), date(2026, 2, 10), 3100, "open"),
        0,
    )
    assert lines(bea_feb) == [(dated("Web Hosting XL", "Feb 10, 2026", "Mar 9, 2026"), 3100)]


def test_a_queued_change_whose_invoice_staff_voided_is_cancelled(company, shop, make_client):
    """Ada's group queues changes until paid. She upgrades to XL on January 25th; staff void
    the upgrade invoice on the 26th (a mistake on the order). On that day's run the engine
    cancels the change, long before its 7 days are up: she stays on Web Hosting."""
    ada = make_client(group=group_with(company, "Queued", queue_service_changes_until_paid=True))
    site = active_service(ada, shop.hosting)
    simulate(company, JAN10, date(2026, 1, 24))
    change = services.change_service(
        site, pricing=shop.xl, options={}, today=date(2026, 1, 25), actor=ACTOR
    )
    simulate(company, date(2026, 1, 25), date(2026, 1, 25))
    invoice_actions.void_invoice(change.invoice, actor=ACTOR, reason="wrong order")
    simulate(company, date(2026, 1, 26), date(2026, 1, 26))
    assert (fresh(change).status, change.resolved_at) == ("canceled", noon(date(2026, 1, 26)))
    assert fresh(site).package.name == "Web Hosting"


def test_a_queued_change_dies_with_its_service(company, shop, make_client, no_suspensions):
    """Ada's group queues changes until paid (and gives them 30 days), Bea's applies them at
    once. On January 20th both upgrade to XL (21.00 x 21/31 = 14.23, due that day); Ada
    pays 5.00 of it. On the 22nd both ask to cancel at the end of the term, and the engine
    cancels on February 10th, when the upgrade invoice is 21 days past due - too late for
    the group's void-on-cancel rule (0 days). Bea had XL, so her upgrade invoice stays open.
    Ada's change never happened: it is cancelled with the service, its invoice voided and
    her 5.00 given back as credit - nothing is left to remind or charge her for."""
    ada = make_client(
        group=group_with(
            company,
            "Queued",
            queue_service_changes_until_paid=True,
            cancel_service_changes_days_after_due=30,
        )
    )
    bea = make_client(group=group_with(company, "At once"),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    sites = {c.pk: active_service(c, shop.hosting) for c in (ada, bea)}
    simulate(company, JAN10, date(2026, 1, 19))
    changes = {
        pk: services.change_service(site, pricing=shop.xl, options={},
                                    today=date(2026, 1, 20), actor=ACTOR)
        for pk, site in sites.items()
    }  # fmt: skip
    payments.pay_invoice(changes[ada.pk].invoice, amount=500, actor=ACTOR)
    simulate(company, date(2026, 1, 20), date(2026, 1, 21))
    for site in sites.values():
        _cancel_at_end_of_term(site, date(2026, 1, 22))
    simulate(company, date(2026, 1, 22), date(2026, 2, 12))

    ada_change, bea_change = fresh(changes[ada.pk]), fresh(changes[bea.pk])
    assert (ada_change.status, bea_change.status) == ("canceled", "applied")
    assert summary(ada_change.invoice) == (date(2026, 1, 20), date(2026, 1, 20), 1423, "void")
    assert summary(bea_change.invoice) == (date(2026, 1, 20), date(2026, 1, 20), 1423, "open")
    assert (balance(ada), balance(bea)) == ({"EUR": (0, 500)}, {"EUR": (1423, 0)})
    assert {fresh(s).status for s in sites.values()} == {"canceled"}


def test_a_term_change_is_invoiced_from_the_next_renewal_on(company, shop, make_client):
    """On January 20th Ada moves her monthly hosting to a yearly term (100.00 a year); Bea
    keeps hers monthly. The new term starts where the invoiced month ends: on February 5th
    Ada is invoiced the year from February 10th, and nothing more until the next year,
    while Bea gets her monthly invoices. In January 2027 Ada's next year is invoiced."""
    yearly = PackagePrice.objects.create(package=shop.hosting.package, unit="year", count=1,
                                         currency="EUR", price=10000)  # fmt: skip
    group = group_with(company, "Ordinary")
    ada = make_client(group=group)
    bea = make_client(group=group, first_name="Bea", email="bea@example.com")
    ada_site, bea_site = active_service(ada, shop.hosting), active_service(bea, shop.hosting)
    simulate(company, JAN10, date(2026, 1, 19))
    services.change_service(ada_site, pricing=yearly, today=date(2026, 1, 20), actor=ACTOR)
    simulate(company, date(2026, 1, 20), date(2026, 3, 5))

    ada_invoices = invoices_of(ada, after=ada_site.first_invoice)
    assert [summary(i) for i in ada_invoices] == [
        (date(2026, 2, 5), date(2026, 2, 10), 10000, "open"),
    ]
    assert lines(ada_invoices[0]) == [(dated("Web Hosting", "Feb 10, 2026", "Feb 9, 2027"), 10000)]
    assert [summary(i)[:3] for i in invoices_of(bea, after=bea_site.first_invoice)] == [
        (date(2026, 2, 5), date(2026, 2, 10), 1000),
        (date(2026, 3, 5), date(2026, 3, 10), 1000),
    ]
    simulate(company, date(2027, 2, 5), date(2027, 2, 5))
    assert [summary(i)[:3] for i in invoices_of(ada, after=ada_invoices[0])] == [
        (date(2027, 2, 5), date(2027, 2, 10), 10000),
    ]


def test_an_addon_is_not_invoiced_past_its_parents_scheduled_cancellation(
    company, shop, make_client, no_suspensions
):
    """Ada and Bea have hosting from January 10th with a Backup addon renewing with it; on
    February 1st each asks to cancel the hosting at the end of its term, February 10th.
    The addon goes with its hosting, so neither is invoiced for a term after that - not
    in Ada's group, which voids a cancelled service's open invoices, and not in Bea's,
    which would have kept such an invoice open. On the 10th the engine cancels both
    services of each client, and nothing is left to pay."""
    ada = make_client(group=group_with(company, "Void"))
    bea = make_client(group=group_with(company, "Keep", void_invoices_on_cancel=False),
                      first_name="Bea", email="bea@example.com")  # fmt: skip
    made = {}
    for client in (ada, bea):
        site = active_service(client, shop.hosting)
        addon = active_service(client, shop.backup, on=date(2026, 1, 20), parent=site)
        made[client.pk] = (site, addon)
    simulate(company, JAN10, date(2026, 1, 31))
    for site, _ in made.values():
        _cancel_at_end_of_term(site, date(2026, 2, 1))
    simulate(company, date(2026, 2, 1), date(2026, 3, 12))

    for client in (ada, bea):
        site, addon = made[client.pk]
        assert invoices_of(client, after=addon.first_invoice) == []
        assert (fresh(site).status, fresh(addon).status) == ("canceled", "canceled")
        assert balance(client) == {"EUR": (0, 0)}
