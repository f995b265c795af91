"""Collections, as stories over simulated days (and hours): every key the engine reads for
auto debit, suspension, renewals and payment notices, changed on its own between two
otherwise identical setups, with the different outcomes spelled out to the minor unit.

Acme Hosting is in Europe/Berlin; a simulated day is the engine run at 12:00 there. Ada
is in the "Resellers" group, Bob (her twin) usually in "Wholesale", the group whose key
differs. Their hosting costs 12.99 EUR a month, ordered on January 10th 2026, paid and
provisioned: its next period (February 10th to March 10th) is invoiced on February 5th
and due on February 10th. Staff invoices ("Consulting") are issued on February 1st, due
on the 10th, unless a story says otherwise.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import TestCase

from groupbill import clock
from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS
from groupbill.billing import accounts, invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Invoice, PaymentAccount, SandboxCharge, Transaction
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.actions import add_contact, create_group, update_client
from groupbill.clients.models import ClientNote, Contact
from groupbill.companies.actions import update_company
from groupbill.notices.models import OutboxMessage
from groupbill.provisioning import ModuleResult
from groupbill.provisioning import test as test_module
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceEvent
from groupbill.settings_catalog.actions import (
    set_client_setting,
    set_group_settings,
    unset_client_setting,
)
from tests.conftest import ACTOR

BERLIN = ZoneInfo("Europe/Berlin")
PRICE = 1299  # 12.99 EUR a month
ORDERED = date(2026, 1, 10)
INVOICED = date(2026, 2, 5)  # the renewal invoice: issued, delivered
DUE = date(2026, 2, 10)  # ... and due


def day(d: int, month: int = 2) -> date:
    return date(2026, month, d)


def _name(client_id: int) -> str:
    return Contact.objects.filter(client_id=client_id).order_by("pk").first().first_name


# --- The simulation ------------------------------------------------------------------------


def after_commits():
    """What runs once a payment has committed (unsuspending) runs here too: the test's
    own wrapping transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


@dataclass
class Sim:
    """Runs the engine for one company, day by day or hour by hour, and writes down what
    each run did: charges, outbox messages, service events and client notes, each with
    the simulated day (or moment) it happened on."""

    company: object
    charges: list = field(default_factory=list)  # (when, client, amount, currency, status)
    messages: list = field(default_factory=list)  # (when, invoice number, template, status)
    events: list = field(default_factory=list)  # (when, service id, event, reason)
    notes: list = field(default_factory=list)  # (when, client id, text)
    failed: list = field(default_factory=list)  # (when, task, error)

    def _marks(self) -> tuple[int, int, int, int]:
        def last(model) -> int:
            row = model.objects.order_by("-pk").values_list("pk", flat=True).first()
            return row or 0

        return last(Transaction), last(OutboxMessage), last(ServiceEvent), last(ClientNote)

    def run(self, as_of: AsOf, when) -> None:
        txn, msg, event, note = self._marks()
        with after_commits():
            reports = execute(as_of, companies=[self.company], tasks=TASKS)
        for report in reports:
            self.failed += [
                (when, report.name, a["error"]) for a in report.actions if a["outcome"] == "failed"
            ]
        for t in Transaction.objects.filter(pk__gt=txn, method="test").order_by("pk"):
            self.charges.append((when, _name(t.client_id), t.amount, t.currency, t.status))
        for m in OutboxMessage.objects.filter(pk__gt=msg).select_related("invoice"):
            number = m.invoice.number if m.invoice else None
            self.messages.append((when, number, m.template, m.status))
        for e in ServiceEvent.objects.filter(pk__gt=event).order_by("pk"):
            self.events.append((when, e.service_id, e.event, e.reason))
        for n in ClientNote.objects.filter(pk__gt=note).order_by("pk"):
            self.notes.append((when, n.client_id, n.text))

    def days(self, first: date, last: date, skip=()) -> "Sim":
        d = first
        while d <= last:
            if d not in skip:
                self.run(AsOf(day=d), d)
            d += timedelta(days=1)
        return self

    def hours(self, first: datetime, last: datetime) -> "Sim":
        moment = first
        while moment <= last:
            self.run(AsOf(moment=moment), moment)
            moment += timedelta(hours=1)
        return self


# --- The book ------------------------------------------------------------------------------


@pytest.fixture
def hosting(company):
    package = Package.objects.create(company=company, name="Hosting", module="test")
    return PackagePrice.objects.create(package=package, unit="month", count=1, currency="EUR",
                                       price=PRICE)  # fmt: skip


@pytest.fixture
def other_group(company):
    return create_group(company, {"name": "Wholesale", "color": "#43A047"}, actor=ACTOR)


@pytest.fixture
def sim(company):
    return Sim(company)


def customer(make_client, group, name):
    return make_client(group=group, first_name=name, email=f"{name.lower()}@example.com")


def hosted(client, pricing) -> Service:
    """Hosting ordered on January 10th, paid and provisioned: renews on February 10th."""
    service = services.add_service(client, pricing=pricing, start_on=ORDERED, actor=ACTOR)
    payments.pay_invoice(service.first_invoice, amount=PRICE, actor=ACTOR)
    return services.provision(service, actor=ACTOR)


def card(client, reference="tok_visa_4242", last4="4242") -> PaymentAccount:
    return accounts.add_payment_account(
        client,
        {"kind": "card", "gateway": "test", "reference": reference, "last4": last4,
         "is_autodebit": True},
        actor=ACTOR,
    )  # fmt: skip


def bill(client, amount, *, issued: date, due: date, currency="EUR", service=None) -> Invoice:
    """A staff invoice of one line, issued and open."""
    invoice = invoices.create_invoice(
        client,
        [NewLine("Consulting", amount, service_id=service.pk if service else None)],
        actor=ACTOR,
        currency=currency,
    )
    return invoices.issue_invoice(invoice, issued_on=issued, due_on=due, actor=ACTOR)


def refreshed(obj):
    obj.refresh_from_db()
    return obj


def settings(group, **values) -> None:
    set_group_settings(group, values, actor=ACTOR)


def paid_on(moment: datetime, invoice: Invoice, amount: int):
    """Staff record a payment at that moment (between engine runs)."""
    with clock.frozen_at(moment), after_commits():
        return payments.pay_invoice(invoice, amount=amount, actor=ACTOR)


def at(d: date, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=BERLIN)


# --- autodebit_enabled -----------------------------------------------------------------------


def test_autodebit_enabled_on_the_group(company, group, other_group, make_client, sim):
    """Ada's group auto debits, Bob's does not: the same invoice is charged to Ada's card on
    February 9th (one day before it is due) and stays open for Bob."""
    settings(other_group, autodebit_enabled=False)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    card(ada), card(bob)
    ada_invoice = bill(ada, 2550, issued=day(1), due=DUE)
    bob_invoice = bill(bob, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(12))

    assert sim.charges == [(day(9), "Ada", 2550, "EUR", "approved")]
    assert refreshed(ada_invoice).status == "paid"
    assert refreshed(bob_invoice).status == "open"
    assert sim.failed == []


def test_autodebit_enabled_on_the_client(company, group, make_client, sim):
    """One group that auto debits: Bob has turned auto debit off for himself, so only Ada's
    card is charged. Cleo's group does not auto debit but she turned it on for herself: she
    is charged too."""
    quiet = create_group(company, {"name": "Manual payers"}, actor=ACTOR)
    settings(quiet, autodebit_enabled=False)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    cleo = customer(make_client, quiet, "Cleo")
    set_client_setting(bob, "autodebit_enabled", False, actor=ACTOR)
    set_client_setting(cleo, "autodebit_enabled", True, actor=ACTOR)
    for client in (ada, bob, cleo):
        card(client)
        bill(client, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(12))

    assert sim.charges == [
        (day(9), "Ada", 2550, "EUR", "approved"),
        (day(9), "Cleo", 2550, "EUR", "approved"),
    ]
    statuses = Invoice.objects.order_by("client_id").values_list("status", flat=True)
    assert list(statuses) == ["paid", "open", "paid"]


# --- autodebit_days_before_due ----------------------------------------------------------------


def test_autodebit_days_before_due(group, other_group, make_client, sim):
    """Ada's group charges one day before the due date (the default), Bob's five: the same
    invoice (25.50 EUR, due February 10th) is charged on February 9th and 5th. Bob's group
    with 0 would charge on the due date itself."""
    settings(other_group, autodebit_days_before_due=5)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    card(ada), card(bob)
    ada_bill = bill(ada, 2550, issued=day(1), due=DUE)
    bob_bill = bill(bob, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(12))

    assert sim.charges == [
        (day(5), "Bob", 2550, "EUR", "approved"),
        (day(9), "Ada", 2550, "EUR", "approved"),
    ]
    # ... and each is told the day before its own charge day
    assert notices_of(sim, ada_bill) == [(day(8), "autodebit_pending", "pending")]
    assert notices_of(sim, bob_bill) == [(day(4), "autodebit_pending", "pending")]


def test_autodebit_on_the_due_date_with_zero_days(group, other_group, make_client, sim):
    """0 days before due: the charge comes on the due date."""
    settings(other_group, autodebit_days_before_due=0)
    bob = customer(make_client, other_group, "Bob")
    card(bob)
    bill(bob, 1001, issued=day(1), due=DUE)
    sim.days(day(1), day(12))
    assert sim.charges == [(DUE, "Bob", 1001, "EUR", "approved")]


def test_one_charge_per_client_currency_and_day(group, make_client, sim):
    """Ada has three invoices due on February 10th, two in EUR and one in USD, and one due
    on the 20th. On the 9th one EUR charge covers both EUR invoices and one USD charge the
    other; the last one is charged on the 19th. A second run on the 9th charges nothing
    more."""
    ada = customer(make_client, group, "Ada")
    card(ada)
    hosting_fee = bill(ada, 1000, issued=day(1), due=DUE)
    backup_fee = bill(ada, 555, issued=day(2), due=DUE)
    licence = bill(ada, 777, issued=day(1), due=DUE, currency="USD")
    later = bill(ada, 333, issued=day(1), due=day(20))

    sim.days(day(1), day(9))
    sim.days(day(9), day(21))  # the 9th twice

    assert sim.charges == [
        (day(9), "Ada", 1555, "EUR", "approved"),
        (day(9), "Ada", 777, "USD", "approved"),
        (day(19), "Ada", 333, "EUR", "approved"),
    ]
    eur = Transaction.objects.get(idempotency_key=f"autodebit:{ada.pk}:EUR:2026-02-09")
    assert list(eur.applications.values_list("invoice_id", "amount")) == [
        (hosting_fee.pk, 1000),
        (backup_fee.pk, 555),
    ]
    assert [refreshed(i).status for i in (hosting_fee, backup_fee, licence, later)] == ["paid"] * 4


def test_a_declined_charge_is_retried_daily_with_every_invoice_then_eligible(
    group, make_client, sim
):
    """Ada's card keeps declining (her group allows 5 attempts). Each day brings one charge,
    for everything eligible that day: 10.00 on the 9th and 10th, 15.55 from the 11th when
    the second invoice (due the 12th) joins, until the fifth decline disables the card."""
    settings(group, autodebit_attempts=5)
    ada = customer(make_client, group, "Ada")
    declining = card(ada, "tok_0002", "0002")
    bill(ada, 1000, issued=day(1), due=DUE)
    bill(ada, 555, issued=day(1), due=day(12))

    sim.days(day(1), day(20))

    assert sim.charges == [
        (day(9), "Ada", 1000, "EUR", "declined"),
        (day(10), "Ada", 1000, "EUR", "declined"),
        (day(11), "Ada", 1555, "EUR", "declined"),
        (day(12), "Ada", 1555, "EUR", "declined"),
        (day(13), "Ada", 1555, "EUR", "declined"),
    ]
    declining = refreshed(declining)
    assert (declining.autodebit_disabled, declining.failure_count) == (True, 5)


# --- autodebit_attempts ---------------------------------------------------------------------


def test_autodebit_attempts(group, other_group, make_client, sim):
    """Both cards are declined every day. Ada's group gives up after 3 declines in a row
    (the default), Bob's after 5: each account is then disabled for auto debit, with one
    note on the client saying which account and why, and is not charged again."""
    settings(other_group, autodebit_attempts=5)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_card, bob_card = card(ada, "tok_0002", "0002"), card(bob, "tok_0002", "0002")
    bill(ada, 2550, issued=day(1), due=DUE)
    bill(bob, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(25))

    assert [(d, who) for d, who, *_ in sim.charges] == [
        (day(9), "Ada"), (day(9), "Bob"),
        (day(10), "Ada"), (day(10), "Bob"),
        (day(11), "Ada"), (day(11), "Bob"),
        (day(12), "Bob"),
        (day(13), "Bob"),
    ]  # fmt: skip
    assert {(amount, status) for _, _, amount, _, status in sim.charges} == {(2550, "declined")}
    why = "declined auto-debit attempts in a row (last: Declined by the card issuer)"
    assert sim.notes == [
        (day(11), ada.pk, f"Card ending 0002 was disabled for auto debit: 3 {why}"),
        (day(13), bob.pk, f"Card ending 0002 was disabled for auto debit: 5 {why}"),
    ]
    ada_card, bob_card = refreshed(ada_card), refreshed(bob_card)
    assert (ada_card.autodebit_disabled, ada_card.failure_count) == (True, 3)
    assert (bob_card.autodebit_disabled, bob_card.failure_count) == (True, 5)
    assert ada_card.disabled_reason == f"3 {why}"


def test_an_approved_charge_resets_the_decline_count(group, make_client, sim):
    """Ada's and Bob's cards are declined on February 9th and 10th. Ada's bank then lifts the
    block: her charge on the 11th is approved, so the count starts again and her card is
    only disabled after three more declines (her card runs out of money later in the
    month). Bob's third decline on the 11th disables his card at once."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    ada_card, bob_card = card(ada, "tok_0002", "0002"), card(bob, "tok_0002", "0002")
    for client in (ada, bob):
        bill(client, 2550, issued=day(1), due=DUE)
        bill(client, 990, issued=day(1), due=day(20))

    sim.days(day(1), day(10))
    PaymentAccount.objects.filter(pk=ada_card.pk).update(reference="tok_ok")  # block lifted
    sim.days(day(11), day(11))
    assert refreshed(ada_card).failure_count == 0
    PaymentAccount.objects.filter(pk=ada_card.pk).update(reference="tok_9995")  # no money
    sim.days(day(12), day(28))

    assert [c for c in sim.charges if c[1] == "Ada"] == [
        (day(9), "Ada", 2550, "EUR", "declined"),
        (day(10), "Ada", 2550, "EUR", "declined"),
        (day(11), "Ada", 2550, "EUR", "approved"),
        (day(19), "Ada", 990, "EUR", "declined"),
        (day(20), "Ada", 990, "EUR", "declined"),
        (day(21), "Ada", 990, "EUR", "declined"),
    ]
    assert [c for c in sim.charges if c[1] == "Bob"] == [
        (day(9), "Bob", 2550, "EUR", "declined"),
        (day(10), "Bob", 2550, "EUR", "declined"),
        (day(11), "Bob", 2550, "EUR", "declined"),
    ]
    assert sim.notes == [
        (day(11), bob.pk, "Card ending 0002 was disabled for auto debit: 3 declined auto-debit "
                          "attempts in a row (last: Declined by the card issuer)"),
        (day(21), ada.pk, "Card ending 0002 was disabled for auto debit: 3 declined auto-debit "
                          "attempts in a row (last: Declined: insufficient funds)"),
    ]  # fmt: skip
    assert refreshed(ada_card).autodebit_disabled and refreshed(bob_card).autodebit_disabled


def test_gateway_errors_do_not_count_as_declines(group, make_client, sim):
    """Ada's gateway answers with a processing error every day, Bob's card is declined: Bob's
    card is disabled after three attempts, Ada's is tried every day and stays enabled,
    its count at zero."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    ada_card, bob_card = card(ada, "tok_0119", "0119"), card(bob, "tok_0002", "0002")
    bill(ada, 2550, issued=day(1), due=DUE)
    bill(bob, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(16))

    ada_tries = [(d, s) for d, who, _, _, s in sim.charges if who == "Ada"]
    assert ada_tries == [(day(d), "error") for d in range(9, 17)]
    assert [(d, s) for d, who, _, _, s in sim.charges if who == "Bob"] == [
        (day(d), "declined") for d in (9, 10, 11)
    ]
    ada_card, bob_card = refreshed(ada_card), refreshed(bob_card)
    assert (ada_card.autodebit_disabled, ada_card.failure_count) == (False, 0)
    assert (bob_card.autodebit_disabled, bob_card.failure_count) == (True, 3)
    assert [client_id for _, client_id, _ in sim.notes] == [bob.pk]


def test_staff_re_enabling_a_disabled_card_resumes_auto_debit(group, make_client, sim):
    """After Ada's card was disabled (3 declines), staff make it her auto-debit account again
    once she has sorted it out: the next day's charge goes through."""
    ada = customer(make_client, group, "Ada")
    ada_card = card(ada, "tok_0002", "0002")
    invoice = bill(ada, 2550, issued=day(1), due=DUE)
    sim.days(day(1), day(14))
    assert refreshed(ada_card).autodebit_disabled
    PaymentAccount.objects.filter(pk=ada_card.pk).update(reference="tok_ok")
    accounts.set_autodebit(refreshed(ada_card), actor=ACTOR)
    sim.days(day(15), day(16))
    assert [(d, s) for d, _, _, _, s in sim.charges] == [
        (day(9), "declined"), (day(10), "declined"), (day(11), "declined"), (day(15), "approved")
    ]  # fmt: skip
    assert refreshed(invoice).status == "paid"


# --- suspend_services_days_after_due -------------------------------------------------------


def suspensions(sim) -> list:
    return [(when, sid, event, why) for when, sid, event, why in sim.events
            if event in ("suspend", "unsuspend")]  # fmt: skip


def renewal_invoice(service) -> Invoice:
    return Invoice.objects.get(lines__service=service, issued_on=INVOICED)


def test_rerunning_earlier_days_never_lifts_a_later_suspension(group, make_client, hosting, sim):
    """Ada's hosting is suspended on February 17th (due the 10th, unpaid). Runs as of the
    10th to the 16th afterwards (late or mistaken) leave it suspended and mail nothing:
    a run never reverses a decision made as of a later moment."""
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    sim.days(day(1), day(20))
    assert refreshed(site).status == "suspended"
    messages = OutboxMessage.objects.count()
    sim.days(day(10), day(16))
    assert refreshed(site).status == "suspended"
    assert OutboxMessage.objects.count() == messages


def test_suspend_services_days_after_due(group, other_group, make_client, hosting, sim):
    """Neither Ada nor Bob pays the renewal invoice due February 10th. Ada's group suspends 7
    days after the due date (the default), Bob's 3 days after: Ada's hosting is suspended
    on the 17th, Bob's on the 13th, each through the module and with the reason in its
    history."""
    settings(other_group, suspend_services_days_after_due=3)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)

    sim.days(day(1), day(20))

    ada_bill, bob_bill = renewal_invoice(ada_site), renewal_invoice(bob_site)
    assert (ada_bill.total, ada_bill.due_on, ada_bill.status) == (PRICE, DUE, "open")
    assert suspensions(sim) == [
        (day(13), bob_site.pk, "suspend", f"Invoice {bob_bill.number} is 3 days past due"),
        (day(17), ada_site.pk, "suspend", f"Invoice {ada_bill.number} is 7 days past due"),
    ]
    for site, on in ((ada_site, day(17)), (bob_site, day(13))):
        site = refreshed(site)
        assert (site.status, site.suspended_by) == ("suspended", "automatic")
        assert site.suspended_at == at(on)  # the run's moment, not the wall clock
    assert ("suspend", bob_site.pk, f"service:{bob_site.pk}:suspend:1") in test_module.calls
    assert sim.failed == []


def test_suspend_never(group, other_group, make_client, hosting, sim):
    """Bob's group never suspends: two months unpaid and his hosting is still active, while
    Ada's is suspended on February 17th."""
    settings(other_group, suspend_services_days_after_due="never")
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)

    sim.days(day(1), day(10, month=4))

    assert [(when, sid) for when, sid, *_ in suspensions(sim)] == [(day(17), ada_site.pk)]
    assert refreshed(bob_site).status == "active"
    assert Invoice.objects.filter(client=bob, status="open").count() == 3  # Feb, Mar, Apr


def test_client_with_auto_suspend_off_is_not_suspended(group, make_client, hosting, sim):
    """Same group, same unpaid invoice: Bob's account has auto-suspend off, so only Ada's
    hosting is suspended."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    update_client(bob, {"autosuspend": False}, actor=ACTOR)
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)

    sim.days(day(1), day(28))

    assert [(when, sid) for when, sid, *_ in suspensions(sim)] == [(day(17), ada_site.pk)]
    assert refreshed(bob_site).status == "active"


def test_suspension_delayed_until(group, make_client, hosting, sim):
    """Staff delayed Bob's suspension until February 20th: nothing happens to him while the
    delay is in the future; on the 20th it has run out and his hosting is suspended. Ada,
    without a delay, is suspended on the 17th."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    update_client(bob, {"suspension_delayed_until": day(20)}, actor=ACTOR)
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)

    sim.days(day(1), day(25))

    bob_bill = renewal_invoice(bob_site)
    assert [(when, sid, why) for when, sid, _, why in suspensions(sim)] == [
        (day(17), ada_site.pk, f"Invoice {renewal_invoice(ada_site).number} is 7 days past due"),
        (day(20), bob_site.pk, f"Invoice {bob_bill.number} is 10 days past due"),
    ]


def test_invoices_of_queued_changes_do_not_suspend(
    company, group, other_group, make_client, hosting, sim
):
    """On January 20th Ada and Bob upgrade to Hosting XL and do not pay the difference. Ada's
    group queues changes until paid, so her upgrade invoice is the queued change's and does
    not count for suspension; Bob's upgrade was applied at once, and his unpaid invoice for
    it gets his hosting suspended 7 days after its due date."""
    settings(group, queue_service_changes_until_paid=True, cancel_service_changes_days_after_due=30)
    xl = Package.objects.create(company=company, name="Hosting XL", module="test")
    xl_price = PackagePrice.objects.create(package=xl, unit="month", count=1, currency="EUR",
                                           price=2599)  # fmt: skip
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)
    jan20 = day(20, month=1)
    ada_change = services.change_service(ada_site, pricing=xl_price, today=jan20, actor=ACTOR)
    bob_change = services.change_service(bob_site, pricing=xl_price, today=jan20, actor=ACTOR)
    # 13.00 x 21/31 = 8.806...
    assert (ada_change.status, ada_change.invoice.total) == ("queued", 881)
    assert (bob_change.status, bob_change.invoice.total) == ("applied", 881)

    sim.days(jan20, day(9))

    assert suspensions(sim) == [
        (day(27, month=1), bob_site.pk, "suspend",
         f"Invoice {bob_change.invoice.number} is 7 days past due"),
    ]  # fmt: skip
    assert refreshed(ada_site).status == "active"
    assert refreshed(ada_change).status == "queued"


# --- Unsuspension ---------------------------------------------------------------------------


def test_a_payment_unsuspends_at_once_but_only_automatic_suspensions(
    group, make_client, hosting, sim
):
    """Ada's and Bob's hosting are both suspended for the unpaid February invoice; Bob's by
    staff on the 12th (abuse), Ada's by the engine on the 17th. Both pay on the 18th at
    09:00, before the engine's run: Ada's hosting is back at once, by the payment itself;
    Bob's stays suspended, also after the next runs, because staff suspended it."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)
    sim.days(day(1), day(11))
    services.suspend(bob_site, actor=ACTOR, reason="abuse report")
    sim.days(day(12), day(17))
    assert [(w, s, e) for w, s, e, _ in suspensions(sim)] == [(day(17), ada_site.pk, "suspend")]

    paid_on(at(day(18), 9), renewal_invoice(ada_site), PRICE)
    paid_on(at(day(18), 9), renewal_invoice(bob_site), PRICE)

    ada_site, bob_site = refreshed(ada_site), refreshed(bob_site)
    assert (ada_site.status, ada_site.suspended_by) == ("active", "")
    unsuspended = ada_site.history.get(event="unsuspend")
    assert (unsuspended.actor, unsuspended.reason) == ("system:payment", "no past-due invoice left")
    assert (bob_site.status, bob_site.suspended_by) == ("suspended", "staff")
    sim.days(day(18), day(25))
    assert refreshed(bob_site).status == "suspended"
    assert [e for e in suspensions(sim) if e[0] >= day(18)] == []


def test_still_past_due_elsewhere_stays_suspended(group, make_client, hosting, sim):
    """Ada also owes a past-due staff invoice for work on her hosting (due February 3rd).
    Paying the renewal invoice leaves that one past due, so the hosting stays suspended;
    paying it too brings the hosting back."""
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    extra = bill(ada, 4990, issued=day(1), due=day(3), service=site)
    sim.days(day(1), day(12))
    assert [(w, e, why) for w, _, e, why in suspensions(sim)] == [
        (day(10), "suspend", f"Invoice {extra.number} is 7 days past due")
    ]
    paid_on(at(day(12), 15), renewal_invoice(site), PRICE)
    assert refreshed(site).status == "suspended"
    paid_on(at(day(12), 16), extra, 4990)
    assert refreshed(site).status == "active"


def test_auto_debit_that_pays_unsuspends_in_the_same_run(group, make_client, hosting, sim):
    """Ada's hosting was suspended on February 17th; on the 18th she adds a card for auto
    debit. That day's run charges it and the hosting is unsuspended within the same run."""
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    sim.days(day(1), day(17))
    card(ada)
    sim.days(day(18), day(18))
    assert sim.charges == [(day(18), "Ada", PRICE, "EUR", "approved")]
    assert [(w, e) for w, _, e, _ in suspensions(sim)] == [
        (day(17), "suspend"),
        (day(18), "unsuspend"),
    ]
    assert refreshed(site).status == "active"


def test_a_voided_invoice_unsuspends_on_the_next_run(group, make_client, hosting, sim):
    """Staff void Ada's past-due invoice on February 18th at 09:00: voiding is no payment,
    so her hosting stays suspended until that day's run, which unsuspends it."""
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    sim.days(day(1), day(17))
    with clock.frozen_at(at(day(18), 9)):
        invoices.void_invoice(renewal_invoice(site), actor=ACTOR, reason="goodwill")
    assert refreshed(site).status == "suspended"
    sim.days(day(18), day(18))
    assert suspensions(sim)[-1] == (day(18), site.pk, "unsuspend", "no past-due invoice left")
    assert refreshed(site).status == "active"


def test_a_module_refusing_to_unsuspend_does_not_undo_the_payment(group, make_client, hosting, sim):
    """When Ada pays on the 18th the panel is down and refuses to unsuspend: her payment is
    recorded all the same (the invoice is paid), the hosting stays suspended for now, and
    the engine's run that day unsuspends it."""
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    sim.days(day(1), day(17))
    test_module.script(site.pk, "unsuspend", ModuleResult(False, "panel down"))
    invoice = renewal_invoice(site)
    paid_on(at(day(18), 9), invoice, PRICE)
    assert (refreshed(invoice).status, refreshed(site).status) == ("paid", "suspended")
    sim.days(day(18), day(18))
    assert suspensions(sim)[-1] == (day(18), site.pk, "unsuspend", "no past-due invoice left")
    assert refreshed(site).status == "active"


def test_an_auto_debit_is_kept_when_the_module_refuses_to_unsuspend(
    group, make_client, hosting, sim
):
    """Ada's hosting is suspended; she adds a card on February 18th, and that day the panel
    refuses the first unsuspension. The approved charge is recorded and pays the invoice
    (it is not left pending, to be charged again the next day under a new key); the
    unsuspend task of the same run brings the hosting back."""
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    sim.days(day(1), day(17))
    card(ada)
    test_module.script(site.pk, "unsuspend", ModuleResult(False, "panel down"))
    sim.days(day(18), day(20))
    assert sim.charges == [(day(18), "Ada", PRICE, "EUR", "approved")]
    assert SandboxCharge.objects.count() == 1
    assert refreshed(renewal_invoice(site)).status == "paid"
    assert [(w, e) for w, _, e, _ in suspensions(sim)] == [
        (day(17), "suspend"),
        (day(18), "unsuspend"),
    ]
    assert [c[:2] for c in test_module.calls if c[0] == "unsuspend"] == [
        ("unsuspend", site.pk),
        ("unsuspend", site.pk),
    ]


# --- Renewals: attempts, spacing, the "renewal failed" flag -------------------------------


def renewal_paid(sim, *sites) -> None:
    """The renewal invoices of February 5th, paid by staff at 12:30 that day."""
    sim.days(day(1), INVOICED)
    for site in sites:
        paid_on(at(INVOICED).replace(minute=30), renewal_invoice(site), PRICE)


def attempts(sim, site) -> list:
    """(local time, event) of the renewal attempts and the flag, in order."""
    return [
        (when.strftime("%d %H:%M"), event)
        for when, sid, event, _ in sim.events
        if sid == site.pk and event in ("renew", "renew_failed", "renewal_failed")
    ]


def failing(site, times: int) -> None:
    test_module.script(site.pk, "renew", *[ModuleResult(False, "panel down")] * times)


SPACED = {  # the base group of the spacing stories
    "service_renewal_attempts": 6,
    "renewal_spacing_threshold_1": 2,
    "renewal_spacing_hours_1": 3,
    "renewal_spacing_threshold_2": 4,
    "renewal_spacing_hours_2": 6,
}
BASE_TIMES = ["05 13:00", "05 14:00", "05 17:00", "05 20:00", "06 02:00", "06 08:00"]


@pytest.mark.parametrize(
    ("change", "times"),
    [
        # every pass until 3 failures, then 3 hours apart; 6 hours apart from the 4th
        ({"renewal_spacing_threshold_1": 3},
         ["05 13:00", "05 14:00", "05 15:00", "05 18:00", "06 00:00", "06 06:00"]),
        # 2 hours apart (not 3) between the 2nd and the 4th failure
        ({"renewal_spacing_hours_1": 2},
         ["05 13:00", "05 14:00", "05 16:00", "05 18:00", "06 00:00", "06 06:00"]),
        # 3 hours apart until the 5th failure (not the 4th), then 6
        ({"renewal_spacing_threshold_2": 5},
         ["05 13:00", "05 14:00", "05 17:00", "05 20:00", "05 23:00", "06 05:00"]),
        # 8 hours apart (not 6) from the 4th failure
        ({"renewal_spacing_hours_2": 8},
         ["05 13:00", "05 14:00", "05 17:00", "05 20:00", "06 04:00", "06 12:00"]),
        # flagged after 4 failures, not 6
        ({"service_renewal_attempts": 4}, ["05 13:00", "05 14:00", "05 17:00", "05 20:00"]),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)  # fmt: skip
def test_renewal_attempts_and_their_spacing(
    company, group, other_group, make_client, hosting, sim, change, times
):
    """Ada's and Bob's renewal invoices are paid on February 5th at 12:30, and the panel
    refuses every renewal. The engine passes every hour. Ada's group (the base) tries at
    every pass until 2 failures, then 3 hours apart, from 4 failures 6 hours apart, and
    gives up after 6; Bob's group differs in one key only. When attempts stop, the
    service is flagged at the pass of the last failure and staff are told."""
    update_company(company, {"notify_email": "ops@acme.example"}, actor=ACTOR)
    settings(group, **SPACED)
    settings(other_group, **(SPACED | change))
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)
    failing(ada_site, 30), failing(bob_site, 30)
    renewal_paid(sim, ada_site, bob_site)

    sim.hours(at(INVOICED, 13), at(day(6), 14))

    expected = {"ada": BASE_TIMES, "bob": times}
    for name, site in (("ada", ada_site), ("bob", bob_site)):
        wanted = [(t, "renew_failed") for t in expected[name]]
        wanted.append((expected[name][-1], "renewal_failed"))
        assert attempts(sim, site) == wanted, name
        site = refreshed(site)
        assert (site.renewal_failed, site.renewal_attempts) == (True, len(expected[name]))
    staff = [(w.strftime("%d %H:%M"), t, s) for w, _, t, s in sim.messages
             if t == "renewal_failed"]  # fmt: skip
    assert sorted(staff) == sorted([
        (BASE_TIMES[-1], "renewal_failed", "pending"),
        (times[-1], "renewal_failed", "pending"),
    ])  # fmt: skip


def test_service_renewal_attempts_flag_and_staff_notification(
    company, group, other_group, make_client, hosting, sim
):
    """With the default spacing (every pass until 6 failures, then hourly), Ada's group gives
    up after 3 failed attempts and Bob's after 24 (the default): after three hourly passes
    Ada's hosting is flagged "renewal failed" and one message for the staff address says
    so; Bob's is still tried every hour, and is renewed when the panel is back at the 5th
    attempt."""
    update_company(company, {"notify_email": "ops@acme.example"}, actor=ACTOR)
    settings(group, service_renewal_attempts=3)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)
    failing(ada_site, 30), failing(bob_site, 4)
    renewal_paid(sim, ada_site, bob_site)

    sim.hours(at(INVOICED, 13), at(INVOICED, 20))

    assert attempts(sim, ada_site) == [
        ("05 13:00", "renew_failed"),
        ("05 14:00", "renew_failed"),
        ("05 15:00", "renew_failed"),
        ("05 15:00", "renewal_failed"),
    ]
    assert attempts(sim, bob_site) == [
        *[(f"05 {h}:00", "renew_failed") for h in (13, 14, 15, 16)],
        ("05 17:00", "renew"),
    ]
    ada_site, bob_site = refreshed(ada_site), refreshed(bob_site)
    assert (ada_site.status, ada_site.renewal_failed, ada_site.renewal_attempts) == (
        "active", True, 3)  # fmt: skip
    assert (bob_site.renewal_failed, bob_site.renewal_attempts) == (False, 0)
    assert bob_site.last_renewed_on == INVOICED
    message = OutboxMessage.objects.get(template="renewal_failed")
    assert (message.status, message.client_id, message.invoice_id) == ("pending", ada.pk, None)
    assert message.recipients == [{"name": "Acme Hosting", "email": "ops@acme.example"}]
    assert message.context == {"service_id": ada_site.pk, "package": "Hosting", "attempts": 3,
                               "period_start": "2026-02-10"}  # fmt: skip
    flagged = ada_site.history.get(event="renewal_failed")
    assert (flagged.actor, flagged.reason) == ("engine", "after 3 failed attempts")
    keys = [k for a, sid, k in test_module.calls if a == "renew" and sid == ada_site.pk]
    assert keys == [f"service:{ada_site.pk}:renew:1"] * 3  # the same effect each time


def test_lowering_service_renewal_attempts_flags_at_the_next_pass(
    group, other_group, make_client, hosting, sim
):
    """Ada's and Bob's renewals have failed 6 times (at every pass: the default spacing
    starts after 6, the default limit is 24). At 18:30 Bob's group lowers the limit to 3:
    at the next pass his hosting is flagged without asking the module again, while Ada's
    is tried again an hour after her last attempt."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_site, bob_site = hosted(ada, hosting), hosted(bob, hosting)
    failing(ada_site, 30), failing(bob_site, 30)
    renewal_paid(sim, ada_site, bob_site)
    sim.hours(at(INVOICED, 13), at(INVOICED, 18))
    settings(other_group, service_renewal_attempts=3)
    sim.hours(at(INVOICED, 19), at(INVOICED, 19))

    assert attempts(sim, ada_site)[-1] == ("05 19:00", "renew_failed")
    assert attempts(sim, bob_site)[-2:] == [
        ("05 18:00", "renew_failed"),
        ("05 19:00", "renewal_failed"),
    ]
    renews = [sid for a, sid, _ in test_module.calls if a == "renew"]
    assert (renews.count(ada_site.pk), renews.count(bob_site.pk)) == (7, 6)
    assert refreshed(bob_site).renewal_failed and not refreshed(ada_site).renewal_failed


def test_staff_clear_the_flag_and_the_engine_tries_again(company, group, make_client, hosting, sim):
    """Ada's hosting was flagged after 3 failures. Staff clear the flag at 18:30: the count
    starts again, the engine tries at its next pass, and when the panel keeps refusing it
    flags the service again after 3 more failures and tells staff again."""
    update_company(company, {"notify_email": "ops@acme.example"}, actor=ACTOR)
    settings(group, service_renewal_attempts=3)
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    failing(site, 30)
    renewal_paid(sim, site)
    sim.hours(at(INVOICED, 13), at(INVOICED, 18))
    with clock.frozen_at(at(INVOICED, 18).replace(minute=30)):
        services.clear_renewal_failed(site, actor=ACTOR)
    assert (refreshed(site).renewal_failed, refreshed(site).renewal_attempts) == (False, 0)
    sim.hours(at(INVOICED, 19), at(INVOICED, 23))

    assert [(t, e) for t, e in attempts(sim, site) if e == "renewal_failed"] == [
        ("05 15:00", "renewal_failed"),
        ("05 21:00", "renewal_failed"),
    ]
    assert [t for t, e in attempts(sim, site) if e == "renew_failed"] == [
        "05 13:00", "05 14:00", "05 15:00", "05 19:00", "05 20:00", "05 21:00"
    ]  # fmt: skip
    staff = [(w.strftime("%d %H:%M"), t) for w, _, t, _ in sim.messages if t == "renewal_failed"]
    assert staff == [("05 15:00", "renewal_failed"), ("05 21:00", "renewal_failed")]


def test_staff_retry_renews_at_once(company, group, make_client, hosting, sim):
    """Ada's hosting was flagged after 3 failures; the panel is fixed and staff retry from
    the service page at 16:10: the module renews it right then, the flag is gone, and the
    engine has nothing left to do."""
    settings(group, service_renewal_attempts=3)
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    failing(site, 3)
    renewal_paid(sim, site)
    sim.hours(at(INVOICED, 13), at(INVOICED, 16))
    assert refreshed(site).renewal_failed
    retried = at(INVOICED, 16).replace(minute=10)
    assert services.retry_renewal(site, actor=ACTOR, at=retried, today=INVOICED) is True
    sim.hours(at(INVOICED, 17), at(INVOICED, 20))

    site = refreshed(site)
    assert (site.renewal_failed, site.renewal_attempts, site.last_renewed_on) == (
        False, 0, INVOICED)  # fmt: skip
    assert list(site.history.order_by("id").values_list("event", flat=True))[-3:] == [
        "renewal_failed", "renewal_cleared", "renew"
    ]  # fmt: skip
    assert [e for _, sid, e, _ in sim.events if sid == site.pk][-1] == "renewal_failed"
    billed = site.billed_periods.get(period=1)
    assert billed.renewed_at == retried


# --- Payment notices -----------------------------------------------------------------------

# The defaults: first notice 1 day before the due date, second 3 days after, third 7 after.
DEFAULT_NOTICES = [
    (day(9), "notice_first", "pending"),
    (day(13), "notice_second", "pending"),
    (day(17), "notice_third", "pending"),
]


def notices_of(sim, invoice) -> list:
    return [(w, t, s) for w, n, t, s in sim.messages
            if n == invoice.number and t.startswith(("notice_", "autodebit_pending"))]  # fmt: skip


def suppressed(notices) -> list:
    return [(w, t, "suppressed") for w, t, _ in notices]


def test_send_payment_notices_on_the_group(group, other_group, make_client, sim):
    """Neither Ada nor Bob pays the invoice due February 10th. Ada's group sends payment
    notices: the first on the 9th, the second on the 13th, the third on the 17th, to her
    billing contact. Bob's group sends none: each one is recorded as suppressed on its
    day, never sent."""
    settings(other_group, send_payment_notices=False)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    add_contact(ada, {"role": "billing", "first_name": "Accounts", "email": "ap@ada.example"},
                actor=ACTOR)  # fmt: skip
    ada_bill = bill(ada, 2550, issued=day(1), due=DUE)
    bob_bill = bill(bob, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(25))

    assert notices_of(sim, ada_bill) == DEFAULT_NOTICES
    assert notices_of(sim, bob_bill) == suppressed(DEFAULT_NOTICES)
    first = OutboxMessage.objects.get(invoice=ada_bill, template="notice_first")
    assert first.recipients == [{"name": "Accounts", "email": "ap@ada.example"}]
    assert (first.key, first.context["balance_due"]) == (f"notice:{ada_bill.pk}:notice_first",
                                                         2550)  # fmt: skip
    third = OutboxMessage.objects.get(invoice=bob_bill, template="notice_third")
    assert third.recipients == [{"name": "Bob Lovelace", "email": "bob@example.com"}]


def test_send_payment_notices_on_the_client(company, group, make_client, sim):
    """In a group that sends notices, Bob has switched them off for himself: his are
    suppressed. Cleo is in a group that sends none but switched them on for herself: hers
    go out."""
    quiet = create_group(company, {"name": "No reminders"}, actor=ACTOR)
    settings(quiet, send_payment_notices=False)
    bob, cleo = customer(make_client, group, "Bob"), customer(make_client, quiet, "Cleo")
    set_client_setting(bob, "send_payment_notices", False, actor=ACTOR)
    set_client_setting(cleo, "send_payment_notices", True, actor=ACTOR)
    bob_bill = bill(bob, 2550, issued=day(1), due=DUE)
    cleo_bill = bill(cleo, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(25))

    assert notices_of(sim, bob_bill) == suppressed(DEFAULT_NOTICES)
    assert notices_of(sim, cleo_bill) == DEFAULT_NOTICES


def test_notices_that_fell_due_while_off_are_never_sent(group, make_client, sim):
    """Bob had notices off until February 11th: his first notice (due on the 9th) was
    suppressed and is not sent when he switches them back on; the second and third go out
    on their days, like Ada's."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    set_client_setting(bob, "send_payment_notices", False, actor=ACTOR)
    ada_bill = bill(ada, 2550, issued=day(1), due=DUE)
    bob_bill = bill(bob, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(10))
    unset_client_setting(bob, "send_payment_notices", actor=ACTOR)
    sim.days(day(11), day(25))

    assert notices_of(sim, ada_bill) == DEFAULT_NOTICES
    assert notices_of(sim, bob_bill) == [
        (day(9), "notice_first", "suppressed"),
        (day(13), "notice_second", "pending"),
        (day(17), "notice_third", "pending"),
    ]
    assert OutboxMessage.objects.filter(invoice=bob_bill).exclude(
        template="invoice_unpaid").count() == 3  # fmt: skip


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"notice_first_days": None},  # off
         [(day(13), "notice_second"), (day(17), "notice_third")]),
        ({"notice_first_days": -5},
         [(day(5), "notice_first"), (day(13), "notice_second"), (day(17), "notice_third")]),
        ({"notice_first_days": 0},  # on the due date
         [(day(10), "notice_first"), (day(13), "notice_second"), (day(17), "notice_third")]),
        ({"notice_second_days": 0},
         [(day(9), "notice_first"), (day(10), "notice_second"), (day(17), "notice_third")]),
        ({"notice_second_days": None},
         [(day(9), "notice_first"), (day(17), "notice_third")]),
        ({"notice_third_days": 14},
         [(day(9), "notice_first"), (day(13), "notice_second"), (day(24), "notice_third")]),
        ({"notice_third_days": None},
         [(day(9), "notice_first"), (day(13), "notice_second")]),
        ({"notice_first_days": -7, "notice_second_days": -3, "notice_third_days": -1},
         [(day(3), "notice_first"), (day(7), "notice_second"), (day(9), "notice_third")]),
    ],
    ids=["first-off", "first-5", "first0", "second0", "second-off", "third14", "third-off",
         "all-before-due"],
)  # fmt: skip
def test_notice_days(group, other_group, make_client, sim, change, expected):
    """Ada's group keeps the default notice days (-1, 3, 7); Bob's changes them as shown
    (null: that notice is off; negative: days before the due date). Same invoice, issued
    February 1st and due the 10th, unpaid."""
    settings(other_group, **change)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    ada_bill = bill(ada, 2550, issued=day(1), due=DUE)
    bob_bill = bill(bob, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(28))

    assert notices_of(sim, ada_bill) == DEFAULT_NOTICES
    assert notices_of(sim, bob_bill) == [(w, t, "pending") for w, t in expected]


def test_a_missed_notice_is_sent_on_the_next_run(group, make_client, sim):
    """The engine did not run on February 9th, the day of the first notice: it goes on the
    10th. Then it did not run from the 16th to the 18th: the third notice (due the 17th)
    goes on the 19th."""
    ada = customer(make_client, group, "Ada")
    invoice = bill(ada, 2550, issued=day(1), due=DUE)
    sim.days(day(1), day(25), skip={day(9), day(16), day(17), day(18)})
    assert notices_of(sim, invoice) == [
        (day(10), "notice_first", "pending"),
        (day(13), "notice_second", "pending"),
        (day(19), "notice_third", "pending"),
    ]


def test_only_the_latest_missed_notice_is_sent(group, make_client, sim):
    """The engine was down from February 8th to 13th: on the 14th the first notice (9th) and
    the second (13th) are both overdue, and only the second, the latest, is sent; the
    first never is."""
    ada = customer(make_client, group, "Ada")
    invoice = bill(ada, 2550, issued=day(1), due=DUE)
    down = {day(d) for d in range(8, 14)}
    sim.days(day(1), day(25), skip=down)
    assert notices_of(sim, invoice) == [
        (day(14), "notice_second", "pending"),
        (day(17), "notice_third", "pending"),
    ]


def test_a_missed_notice_is_not_sent_once_the_invoice_is_paid(group, make_client, sim):
    """The engine did not run on February 9th. Ada paid one of her two invoices that
    afternoon: on the 10th only the open one gets its (late) first notice."""
    ada = customer(make_client, group, "Ada")
    paid = bill(ada, 2550, issued=day(1), due=DUE)
    unpaid = bill(ada, 1200, issued=day(1), due=DUE)
    sim.days(day(1), day(8))
    paid_on(at(day(9), 15), paid, 2550)
    sim.days(day(10), day(20))
    assert notices_of(sim, paid) == []
    assert notices_of(sim, unpaid)[0] == (day(10), "notice_first", "pending")


def test_no_notice_for_a_day_before_the_invoice_was_issued(group, make_client, sim):
    """Three invoices due February 10th: issued on the 1st (every notice), on the 10th (the
    first notice's day, the 9th, came before it existed: never sent), and on the 15th (a
    late one: the first and second notice days came before it, so only the third goes,
    on the 17th)."""
    ada = customer(make_client, group, "Ada")
    early = bill(ada, 1000, issued=day(1), due=DUE)
    sim.days(day(1), day(9))
    on_time = bill(ada, 2000, issued=day(10), due=DUE)
    sim.days(day(10), day(14))
    late = bill(ada, 3000, issued=day(15), due=DUE)
    sim.days(day(15), day(25))
    assert notices_of(sim, early) == DEFAULT_NOTICES
    assert notices_of(sim, on_time) == DEFAULT_NOTICES[1:]
    assert notices_of(sim, late) == DEFAULT_NOTICES[2:]


# --- notice_autodebit_pending_days ----------------------------------------------------------


def test_notice_autodebit_pending_days(company, group, other_group, make_client, sim):
    """Ada's, Bob's and Cleo's cards are charged on February 9th (one day before the due
    date). Ada's group tells the client 1 day before (the default), Bob's 3 days before,
    Cleo's not at all (null). Being paid by auto debit on the 9th, none of them gets a
    late notice."""
    silent = create_group(company, {"name": "Silent"}, actor=ACTOR)
    settings(other_group, notice_autodebit_pending_days=3)
    settings(silent, notice_autodebit_pending_days=None)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    cleo = customer(make_client, silent, "Cleo")
    bills = {}
    for client in (ada, bob, cleo):
        card(client)
        bills[client.pk] = bill(client, 2550, issued=day(1), due=DUE)

    sim.days(day(1), day(20))

    assert notices_of(sim, bills[ada.pk]) == [(day(8), "autodebit_pending", "pending")]
    assert notices_of(sim, bills[bob.pk]) == [(day(6), "autodebit_pending", "pending")]
    assert notices_of(sim, bills[cleo.pk]) == []
    assert [(d, who) for d, who, *_ in sim.charges] == [
        (day(9), "Ada"), (day(9), "Bob"), (day(9), "Cleo")
    ]  # fmt: skip
    message = OutboxMessage.objects.get(template="autodebit_pending", client=ada)
    assert (message.context["balance_due"], message.context["due_on"]) == (2550, "2026-02-10")


def test_autodebit_pending_notice_only_for_clients_who_will_be_charged(group, make_client, sim):
    """All in one group. Ada has an auto-debit card: told on the 8th, charged on the 9th.
    Bob has no card, Cleo switched auto debit off, Dave's card was disabled for auto
    debit: none of them is told of a charge that will not come (they get the first late
    notice on the 9th instead)."""
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, group, "Bob")
    cleo, dave = customer(make_client, group, "Cleo"), customer(make_client, group, "Dave")
    card(ada), card(cleo)
    set_client_setting(cleo, "autodebit_enabled", False, actor=ACTOR)
    accounts.disable_for_autodebit(card(dave), reason="card reported stolen", actor=ACTOR)
    bills = {c.pk: bill(c, 2550, issued=day(1), due=DUE) for c in (ada, bob, cleo, dave)}

    sim.days(day(1), day(9))

    assert notices_of(sim, bills[ada.pk]) == [(day(8), "autodebit_pending", "pending")]
    for client in (bob, cleo, dave):
        assert notices_of(sim, bills[client.pk]) == [(day(9), "notice_first", "pending")]
    assert [who for _, who, *_ in sim.charges] == ["Ada"]


def test_autodebit_pending_notice_and_the_notices_switch(group, make_client, sim):
    """Bob has payment notices off: his auto-debit pending notice is recorded suppressed."""
    bob = customer(make_client, group, "Bob")
    set_client_setting(bob, "send_payment_notices", False, actor=ACTOR)
    card(bob)
    invoice = bill(bob, 2550, issued=day(1), due=DUE)
    sim.days(day(1), day(9))
    assert notices_of(sim, invoice) == [(day(8), "autodebit_pending", "suppressed")]


def test_autodebit_pending_notice_not_for_a_day_before_the_invoice(group, make_client, sim):
    """Ada's group tells of a charge 5 days ahead. Her first invoice (issued February 1st)
    is announced on the 4th; the second, issued on the 6th for the same charge day, came
    after its notice day, so it is not announced (both are charged on the 9th, together)."""
    settings(group, notice_autodebit_pending_days=5)
    ada = customer(make_client, group, "Ada")
    card(ada)
    first = bill(ada, 1000, issued=day(1), due=DUE)
    sim.days(day(1), day(5))
    second = bill(ada, 2000, issued=day(6), due=DUE)
    sim.days(day(6), day(10))
    assert notices_of(sim, first) == [(day(4), "autodebit_pending", "pending")]
    assert notices_of(sim, second) == []
    assert sim.charges == [(day(9), "Ada", 3000, "EUR", "approved")]


def test_a_missed_autodebit_pending_notice_is_caught_up_before_the_charge_day(
    group, other_group, make_client, sim
):
    """The engine was down on February 6th and 8th; both cards are charged on the 9th. Ada's
    group tells 3 days ahead (the 6th): her notice is caught up on the 7th, still before
    the charge. Bob's tells 1 day ahead (the 8th): on the 9th the charge has come, so no
    notice goes."""
    settings(group, notice_autodebit_pending_days=3)
    ada, bob = customer(make_client, group, "Ada"), customer(make_client, other_group, "Bob")
    card(ada), card(bob)
    ada_bill = bill(ada, 2550, issued=day(1), due=DUE)
    bob_bill = bill(bob, 2550, issued=day(1), due=DUE)
    sim.days(day(1), day(10), skip={day(6), day(8)})
    assert notices_of(sim, ada_bill) == [(day(7), "autodebit_pending", "pending")]
    assert notices_of(sim, bob_bill) == []
    assert [(d, who) for d, who, *_ in sim.charges] == [(day(9), "Ada"), (day(9), "Bob")]


def test_the_same_past_due_invoice_suspends_with_one_message(group, make_client, hosting, sim):
    """The engine suspends Ada's hosting on February 17th for the unpaid February invoice;
    staff lift the suspension that evening as she promises to pay, and the engine's run
    of the 18th suspends it again, for the same invoice: she is told once."""
    ada = customer(make_client, group, "Ada")
    site = hosted(ada, hosting)
    sim.days(day(1), day(17))
    assert refreshed(site).status == "suspended"
    services.unsuspend(refreshed(site), actor=ACTOR, reason="promised to pay")
    sim.days(day(18), day(19))

    assert [(w, s, e) for w, s, e, _ in suspensions(sim)] == [
        (day(17), site.pk, "suspend"),
        (day(18), site.pk, "suspend"),
    ]
    told = OutboxMessage.objects.filter(client=ada, template="service_suspended")
    bill = renewal_invoice(site)
    assert list(told.values_list("key", flat=True)) == [
        f"service:{site.pk}:suspended:invoice:{bill.pk}"
    ]
