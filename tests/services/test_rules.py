"""Service rules beyond the story: cancellation voiding per the group's settings, queued
changes, term changes, addon rules, module failures, charge attempts after a crash."""

from datetime import date

import pytest

from groupbill.billing import charges, gateways, invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Invoice, SandboxCharge
from groupbill.catalog.models import Package, PackagePrice
from groupbill.errors import Conflict, ValidationFailed
from groupbill.provisioning import ModuleResult
from groupbill.provisioning import test as test_module
from groupbill.services import actions as services
from groupbill.services.past_due import past_due_service_ids
from groupbill.settings_catalog.actions import set_group_setting
from tests.conftest import ACTOR

JAN10 = date(2026, 1, 10)


@pytest.fixture
def hosting_at_10(company):
    package = Package.objects.create(company=company, name="Hosting", module="test")
    return PackagePrice.objects.create(package=package, unit="month", count=1, currency="EUR",
                                       price=1000)  # fmt: skip


def order(client, pricing, on=JAN10, **kw):
    service = services.add_service(client, pricing=pricing, start_on=on, actor=ACTOR, **kw)
    return service, service.first_invoice


def status(invoice):
    invoice.refresh_from_db()
    return invoice.status


@pytest.mark.parametrize(
    ("void_on_cancel", "max_days", "cancel_on", "expected"),
    [
        (True, 0, JAN10, "void"),  # not past due
        (True, 0, date(2026, 1, 11), "open"),  # 1 day past due > 0
        (True, 5, date(2026, 1, 15), "void"),  # 5 days past due <= 5
        (True, "any", date(2026, 3, 1), "void"),
        (False, "any", JAN10, "open"),
    ],
)
def test_cancelling_voids_open_invoices_as_the_group_says(
    ada, group, hosting_at_10, void_on_cancel, max_days, cancel_on, expected
):
    set_group_setting(group, "void_invoices_on_cancel", void_on_cancel, actor=ACTOR)
    set_group_setting(group, "void_on_cancel_max_days_past_due", max_days, actor=ACTOR)
    service, invoice = order(ada, hosting_at_10)
    services.cancel(service, today=cancel_on, actor=ACTOR)
    assert status(invoice) == expected


def test_a_shared_invoice_only_loses_the_cancelled_services_lines(ada, hosting_at_10):
    service, first = order(ada, hosting_at_10)
    other, _ = order(ada, hosting_at_10)
    invoices.void_invoice(first, actor=ACTOR)
    shared = invoices.create_invoice(
        ada, [NewLine("Hosting next month", 1000, service_id=service.pk),
              NewLine("Other next month", 1000, service_id=other.pk)], actor=ACTOR,
    )  # fmt: skip
    invoices.issue_invoice(shared, issued_on=JAN10, actor=ACTOR)
    payments.pay_invoice(shared, amount=1500, actor=ACTOR)
    services.cancel(service, today=JAN10, actor=ACTOR)
    shared.refresh_from_db()
    # The issued invoice keeps both lines and its total; a credit note credits the
    # cancelled service's line.
    assert (shared.status, shared.total, shared.credited, shared.amount_paid) == (
        "paid", 2000, 1000, 1000)  # fmt: skip
    assert [ln.service_id for ln in shared.lines.all()] == [service.pk, other.pk]
    [note] = shared.credit_notes.all()
    assert note.total == 1000
    assert [ln.invoice_line.service_id for ln in note.lines.all()] == [service.pk]
    balance = payments.balances([ada.pk])[ada.pk]
    assert [(b.currency, b.credit) for b in balance] == [("EUR", 500)]


def test_end_of_term_cancellation_is_scheduled_not_done(ada, hosting_at_10):
    service, invoice = order(ada, hosting_at_10)
    services.cancel(service, today=JAN10, when="end_of_term", actor=ACTOR)
    service.refresh_from_db()
    assert (service.status, service.cancel_at) == ("pending", date(2026, 2, 10))
    assert status(invoice) == "open"
    services.unschedule_cancellation(service, actor=ACTOR)
    service.refresh_from_db()
    assert service.cancel_at is None


def test_queued_upgrade_waits_for_payment_then_applies(ada, group, company, hosting_at_10):
    set_group_setting(group, "queue_service_changes_until_paid", True, actor=ACTOR)
    big = Package.objects.create(company=company, name="Hosting XL", module="test")
    big_price = PackagePrice.objects.create(package=big, unit="month", count=1, currency="EUR",
                                            price=3100)  # fmt: skip
    service, first = order(ada, hosting_at_10)
    payments.pay_invoice(first, amount=1000, actor=ACTOR)
    services.provision(service, actor=ACTOR)
    change = services.change_service(service, pricing=big_price, today=date(2026, 1, 25),
                                     actor=ACTOR)  # fmt: skip
    # 2100 x 16/31 = 1083.87
    assert (change.status, change.invoice.total) == ("queued", 1084)
    service.refresh_from_db()
    assert service.package.name == "Hosting"  # not yet
    with pytest.raises(Conflict):
        services.apply_queued_change(change, actor=ACTOR)
    with pytest.raises(Conflict):  # one queued change at a time
        services.change_service(service, pricing=big_price, today=date(2026, 1, 26), actor=ACTOR)
    payments.pay_invoice(change.invoice, amount=1084, actor=ACTOR)
    services.apply_queued_change(change, actor=ACTOR)
    service.refresh_from_db()
    assert service.package == big
    assert [c[0] for c in test_module.calls] == ["add", "change_package"]


def test_a_cancelled_queued_change_credits_what_was_paid(ada, group, company, hosting_at_10):
    set_group_setting(group, "queue_service_changes_until_paid", True, actor=ACTOR)
    big = Package.objects.create(company=company, name="Hosting XL")
    big_price = PackagePrice.objects.create(package=big, unit="month", count=1, currency="EUR",
                                            price=3100)  # fmt: skip
    service, first = order(ada, hosting_at_10)
    payments.pay_invoice(first, amount=1000, actor=ACTOR)
    services.provision(service, actor=ACTOR)
    change = services.change_service(service, pricing=big_price, today=date(2026, 1, 25),
                                     actor=ACTOR)  # fmt: skip
    payments.pay_invoice(change.invoice, amount=500, actor=ACTOR)
    services.cancel_queued_change(change, actor=ACTOR, reason="unpaid 7 days")
    assert status(change.invoice) == "void"
    [note] = change.invoice.credit_notes.all()  # credited in full
    assert (note.total, note.reason) == (change.invoice.total, "unpaid 7 days")
    assert payments.balances([ada.pk])[ada.pk][0].credit == 500
    change.refresh_from_db()
    assert change.status == "canceled"


def test_a_term_change_starts_at_the_next_renewal(ada, company, hosting_at_10):
    yearly = PackagePrice.objects.create(package=hosting_at_10.package, unit="year", count=1,
                                         currency="EUR", price=10000)  # fmt: skip
    service, first = order(ada, hosting_at_10)
    payments.pay_invoice(first, amount=1000, actor=ACTOR)
    services.provision(service, actor=ACTOR)
    change = services.change_service(service, pricing=yearly, today=date(2026, 1, 20),
                                     actor=ACTOR)  # fmt: skip
    assert (change.status, change.invoice, change.credit_amount) == ("applied", None, 0)
    service.refresh_from_db()
    assert (service.anchor_date, service.next_period, service.renew_date) == (
        date(2026, 2, 10),
        0,
        date(2026, 2, 10),
    )
    assert service.period(0) == (date(2026, 2, 10), date(2027, 2, 10))


def test_addons_must_fit_their_parent(ada, company, hosting_at_10, make_client):
    extra = Package.objects.create(company=company, name="Extra IP")
    extra_price = PackagePrice.objects.create(package=extra, unit="month", count=1,
                                              currency="EUR", price=200)  # fmt: skip
    parent, _ = order(ada, hosting_at_10)
    with pytest.raises(ValidationFailed) as refused:
        order(ada, extra_price, parent=parent)
    assert refused.value.errors[0].field == "parent_id"
    extra.addon_of.add(hosting_at_10.package)
    someone_else = make_client(email="bob@example.com")
    with pytest.raises(ValidationFailed):
        order(someone_else, extra_price, parent=parent)
    quarterly = PackagePrice.objects.create(package=extra, unit="month", count=3,
                                            currency="EUR", price=500)  # fmt: skip
    addon, invoice = order(ada, quarterly, parent=parent, on=date(2026, 1, 20))
    # Different term from the parent: not synchronised, a full quarter from its own start.
    assert (addon.anchor_date, addon.renew_date, invoice.total) == (
        date(2026, 1, 20),
        date(2026, 4, 20),
        500,
    )


def test_addons_follow_the_group_synchronize_setting(ada, group, company, hosting_at_10):
    set_group_setting(group, "synchronize_addons", False, actor=ACTOR)
    ip = Package.objects.create(company=company, name="IP")
    ip.addon_of.add(hosting_at_10.package)
    ip_price = PackagePrice.objects.create(package=ip, unit="month", count=1, currency="EUR",
                                           price=310)  # fmt: skip
    parent, _ = order(ada, hosting_at_10)
    addon, invoice = order(ada, ip_price, parent=parent, on=date(2026, 1, 20))
    assert (addon.renew_date, invoice.total) == (date(2026, 2, 20), 310)
    set_group_setting(group, "synchronize_addons", True, actor=ACTOR)
    synced, invoice = order(ada, ip_price, parent=parent, on=date(2026, 1, 20))
    assert (synced.renew_date, invoice.total) == (date(2026, 2, 10), 210)  # 310 x 21/31


def test_a_module_refusal_changes_nothing(ada, hosting_at_10):
    service, _ = order(ada, hosting_at_10)
    test_module.script(service.pk, "add", ModuleResult(False, "panel down"))
    with pytest.raises(Conflict, match="panel down"):
        services.provision(service, actor=ACTOR)
    service.refresh_from_db()
    assert service.status == "pending"
    services.provision(service, actor=ACTOR)
    keys = [key for _, _, key in test_module.calls]
    assert keys[0] == keys[1]  # the retry reuses the key of the failed attempt
    services.suspend(service, actor=ACTOR, reason="abuse report")
    services.unsuspend(service, actor=ACTOR)
    services.suspend(service, actor=ACTOR, reason="again")
    suspends = [key for action, _, key in test_module.calls if action == "suspend"]
    assert len(set(suspends)) == 2  # each successful effect has its own key


def test_a_charge_whose_answer_was_lost_is_settled_not_repeated(ada, hosting_at_10, settings):
    """The gateway approved, but its answer never came back (a timeout): the attempt stays
    pending, a second try of the same request waits for it, and once the grace period is
    over the outcome is asked for by the attempt's key and booked, never charged again."""
    from groupbill.billing import accounts

    _, invoice = order(ada, hosting_at_10)
    card = accounts.add_payment_account(
        ada, {"kind": "card", "gateway": "test", "reference": "tok_0408", "last4": "0408"},
        actor=ACTOR,
    )  # fmt: skip
    pay = lambda: charges.pay_with_account(  # noqa: E731
        invoice, card, actor=ACTOR, principal="staff:1", key="pay:1"
    )
    pending = pay()
    assert pending.status == "pending" and status(invoice) == "open"
    assert SandboxCharge.objects.get().idempotency_key == pending.gateway_key
    assert pay().pk == pending.pk  # still within the grace period: still pending
    with pytest.raises(charges.AttemptPending, match=f"Charge #{pending.pk}"):
        charges.pay_with_account(invoice, card, actor=ACTOR, principal="staff:1", key="pay:2")

    settings.EFFECT_GRACE_SECONDS = 0
    settled = pay()
    assert (settled.pk, settled.status) == (pending.pk, "approved")
    assert SandboxCharge.objects.count() == 1  # charged once
    assert status(invoice) == "paid"
    assert gateways.get_gateway("test").outcome(settled.gateway_key).approved


def test_refused_orders_write_nothing(ada, hosting_at_10, company):
    inactive = Package.objects.create(company=company, name="Old", active=False)
    old_price = PackagePrice.objects.create(package=inactive, unit="month", count=1,
                                            currency="EUR", price=100)  # fmt: skip
    with pytest.raises(ValidationFailed):
        order(ada, old_price)
    with pytest.raises(ValidationFailed):
        order(ada, hosting_at_10, quantity=0)
    assert not Invoice.objects.exists()


def test_end_of_term_means_the_period_the_client_is_in_even_if_the_next_is_invoiced(
    ada, hosting_at_10
):
    """Cancelling at the end of the term after the next period's invoice was issued (within
    the invoice lead time) ends the current period; that invoice, due on the cancellation
    day, is then voided when the engine carries the cancellation out."""
    from groupbill.automation.engine import AsOf, execute
    from groupbill.automation.tasks import TASKS

    service, first = order(ada, hosting_at_10)
    payments.pay_invoice(first, amount=1000, actor=ACTOR)
    services.provision(service, actor=ACTOR)
    company = ada.company
    execute(AsOf(day=date(2026, 2, 6)), companies=[company], tasks=TASKS)  # invoices Feb 10
    service.refresh_from_db()
    assert service.renew_date == date(2026, 3, 10)
    services.cancel(service, today=date(2026, 2, 7), when="end_of_term", actor=ACTOR)
    service.refresh_from_db()
    assert service.cancel_at == date(2026, 2, 10)
    execute(AsOf(day=date(2026, 2, 10)), companies=[company], tasks=TASKS)
    service.refresh_from_db()
    assert service.status == "canceled"
    february = Invoice.objects.get(client=ada, due_on=date(2026, 2, 10))
    assert february.status == "void"


def test_a_credited_line_is_not_past_due(ada, hosting_at_10):
    """A shared invoice past due whose line of one service was credited makes only the
    other service past due."""
    service, first = order(ada, hosting_at_10)
    other, second = order(ada, hosting_at_10)
    for invoice in (first, second):
        payments.pay_invoice(invoice, amount=1000, actor=ACTOR)
    shared = invoices.create_invoice(
        ada, [NewLine("Hosting next month", 1000, service_id=service.pk),
              NewLine("Other next month", 1000, service_id=other.pk)], actor=ACTOR,
    )  # fmt: skip
    invoices.issue_invoice(shared, issued_on=JAN10, actor=ACTOR)
    late = date(2026, 1, 20)
    assert past_due_service_ids(ada.pk, late) == {service.pk, other.pk}
    ours = shared.lines.get(service=service)
    invoices.remove_lines(shared, [ours.pk], actor=ACTOR, reason="not wanted")
    assert past_due_service_ids(ada.pk, late) == {other.pk}
