"""The ledger pages as staff use them: the client overview, the invoice page, the service
page; every action through its form."""

import os
from datetime import date

import pytest

from groupbill.billing import invoices
from groupbill.billing.models import Invoice, Transaction
from groupbill.catalog.models import Package, PackagePrice
from groupbill.services.models import Service
from tests.conftest import ARTIFACTS, login
from tests.web.form_helpers import pay_form, refund_form


@pytest.fixture
def hosting_at_12_50(company):
    package = Package.objects.create(company=company, name="Hosting")
    return PackagePrice.objects.create(
        package=package, unit="month", count=1, currency="EUR", price=1250
    )


def post(http, url, **data):
    response = http.post(url, data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def _pay_form(http, invoice, **data):
    """The invoice page's Record payment form, filled in: (its URL, its fields)."""
    action, fields = pay_form(http.get(f"/invoices/{invoice.pk}/").content.decode())
    return action or f"/invoices/{invoice.pk}/", fields | data


def pay(http, invoice, **data):
    """Record a payment through the invoice page's form, as the page gave it."""
    url, form = _pay_form(http, invoice, **data)
    return post(http, url, **form)


def test_order_pay_and_void_from_the_pages(staff, make_client, hosting_at_12_50):
    ada = make_client()
    page = post(
        staff,
        f"/clients/{ada.pk}/services/order/",
        pricing=hosting_at_12_50.pk,
        quantity=2,
        start_on="2026-03-31",
    )
    service = Service.objects.get(client=ada)
    assert "ordered; invoice 1 is open" in page
    invoice = Invoice.objects.get(client=ada)
    assert invoice.total == 2500

    page = pay(staff, invoice, amount="10.005")
    assert "at most 2 decimal place" in page
    page = pay(staff, invoice, amount="10.00", reference="wire")
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (1000, "open")
    assert "€15.00" in page  # balance due

    page = post(staff, f"/invoices/{invoice.pk}/", action="void", reason="ordered twice")
    invoice.refresh_from_db()
    assert invoice.status == "void"
    overview = staff.get(f"/clients/{ada.pk}/").content.decode()
    assert "€10.00" in overview  # the payment is loose credit now
    assert f"/services/{service.pk}/" in overview


def test_the_invoice_page_shows_its_credit_notes(staff, make_client, hosting_at_12_50):
    """A line credited (as a cancelled service's is) stays on the page, marked, and the
    page lists the credit note; voiding on the page credits the rest in a second one."""
    ada = make_client()
    post(staff, f"/clients/{ada.pk}/services/order/", pricing=hosting_at_12_50.pk)
    invoice = Invoice.objects.get(client=ada)
    url = f"/invoices/{invoice.pk}/"
    post(staff, url, action="add_line", description="Migration", unit_amount="40.00")
    pay(staff, invoice, amount="20.00")
    _, migration = invoice.lines.order_by("position")
    invoices.remove_lines(invoice, [migration.pk], actor="test", reason="not needed")
    page = staff.get(url).content.decode()
    assert "credited: Credit note 1" in page
    assert ">Remove</button>" not in page  # an issued invoice's lines stay on its page
    assert '<td id="credited">€40.00</td>' in page
    assert '<td id="balance"><strong>€0.00</strong></td>' in page  # 52.50 - 40.00 - 12.50
    notes = page[page.index('id="credit-notes"') :]
    assert "Credit note 1</a></td>" in notes and "<td>not needed</td><td>€40.00</td>" in notes
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total, invoice.credited) == ("paid", 5250, 4000)
    page = post(staff, url, action="void", reason="goodwill")
    assert "Credit note 2 credits it." in page
    assert "Credit note 2</a></td>" in page and "<td>goodwill</td><td>€12.50</td>" in page
    invoice.refresh_from_db()
    assert (invoice.status, invoice.credited, invoice.amount_paid) == ("void", 5250, 0)


def test_service_actions_from_its_page(staff, make_client, hosting_at_12_50):
    ada = make_client()
    post(staff, f"/clients/{ada.pk}/services/order/", pricing=hosting_at_12_50.pk)
    service = Service.objects.get(client=ada)
    url = f"/services/{service.pk}/"
    post(staff, url, action="provision")
    page = post(staff, url, action="suspend", reason="")
    assert "Say why the service is suspended." in page
    post(staff, url, action="suspend", reason="abuse report")
    service.refresh_from_db()
    assert (service.status, service.suspended_by) == ("suspended", "staff")
    post(staff, url, action="unsuspend")
    page = post(staff, url, action="cancel_end", reason="moving")
    service.refresh_from_db()
    assert service.cancel_at == service.renew_date
    assert "Cancellation scheduled" in page
    post(staff, url, action="cancel_now", reason="moving now")
    service.refresh_from_db()
    assert service.status == "canceled"
    history = staff.get(url).content.decode()
    for event in ("order", "add", "suspend", "unsuspend", "cancel_scheduled", "cancel"):
        assert f"<td>{event}</td>" in history


def test_notes_accounts_and_credit_from_the_overview(staff, make_client, hosting_at_12_50):
    ada = make_client()
    post(staff, f"/clients/{ada.pk}/notes/add/", text="Called about invoice")
    page = post(
        staff,
        f"/clients/{ada.pk}/payment-accounts/add/",
        kind="card",
        gateway="test",
        reference="4111111111111111",
        last4="1111",
    )
    assert "never a card or account number" in page
    post(
        staff,
        f"/clients/{ada.pk}/payment-accounts/add/",
        kind="card",
        gateway="test",
        reference="tok_ok",
        last4="4242",
        is_autodebit="1",
    )
    page = staff.get(f"/clients/{ada.pk}/").content.decode()
    assert "Called about invoice" in page and "Card ending 4242" in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_staff_member_charges_an_invoice_in_the_browser(
    browser_page, staff_user, make_client, hosting_at_12_50
):
    page = browser_page
    ada = make_client()
    login(page)
    page.goto(f"/clients/{ada.pk}/")
    page.get_by_role("button", name="Order service").click()
    page.get_by_text("ordered; invoice 1 is open").wait_for()
    page.goto(f"/clients/{ada.pk}/")
    page.fill('input[name="reference"]', "tok_browser")
    page.fill('input[name="last4"]', "4242")
    page.get_by_role("button", name="Add account").click()
    page.get_by_role("link", name="Invoice 1").click()
    page.get_by_role("button", name="Charge").click()
    page.get_by_text("Charge of Card ending 4242: approved.").wait_for()
    assert page.locator("#balance").inner_text() == "€0.00"
    page.screenshot(path=os.path.join(ARTIFACTS, "invoice-paid.png"), full_page=True)
    page.goto(f"/clients/{ada.pk}/")
    page.screenshot(path=os.path.join(ARTIFACTS, "client-overview.png"), full_page=True)


def test_staff_retry_a_failed_renewal_from_the_service_page(staff, make_client, hosting_at_12_50):
    from datetime import date

    from groupbill.billing import payments
    from groupbill.billing.invoices import NewLine, create_invoice, issue_invoice
    from groupbill.provisioning import ModuleResult
    from groupbill.provisioning import test as test_module
    from groupbill.services.models import BilledPeriod

    hosting_at_12_50.package.module = "test"
    hosting_at_12_50.package.save()
    ada = make_client()
    post(staff, f"/clients/{ada.pk}/services/order/", pricing=hosting_at_12_50.pk)
    service = Service.objects.get(client=ada)
    post(staff, f"/services/{service.pk}/", action="provision")
    renewal = create_invoice(
        ada, [NewLine("Hosting, next month", 1250, service_id=service.pk)], actor="test"
    )
    issue_invoice(renewal, issued_on=date(2026, 1, 1), actor="test")
    payments.pay_invoice(renewal, amount=1250, actor="test")
    BilledPeriod.objects.create(
        service=service, period=1, start=date(2026, 2, 1), end=date(2026, 3, 1), invoice=renewal
    )
    Service.objects.filter(pk=service.pk).update(renewal_failed=True, renewal_attempts=24)
    test_module.script(service.pk, "renew", ModuleResult(False, "panel down"))
    page = post(staff, f"/services/{service.pk}/", action="renewal_retry")
    assert "The module refused again" in page
    page = post(staff, f"/services/{service.pk}/", action="renewal_retry")
    assert "Renewed." in page
    service.refresh_from_db()
    assert (service.renewal_failed, service.renewal_attempts) == (False, 0)


def test_tampered_form_values_answer_with_a_message_not_a_server_error(
    staff, make_client, hosting_at_12_50
):
    ada = make_client()
    post(staff, f"/clients/{ada.pk}/services/order/", pricing=hosting_at_12_50.pk)
    invoice = Invoice.objects.get(client=ada)
    for data in (
        {"action": "remove_line", "line": "x"},
        {"action": "charge", "account": "x"},
        {"action": "pay", "amount": "lots"},
        {"action": "nonsense"},
    ):
        response = staff.post(f"/invoices/{invoice.pk}/", data, follow=True)
        assert response.status_code in (200, 404)
    response = staff.post(
        f"/clients/{ada.pk}/services/order/",
        {"pricing": hosting_at_12_50.pk, "quantity": "many"},
        follow=True,
    )
    assert "Check the start date and quantity." in response.content.decode()


def test_a_charge_waiting_for_the_gateway_is_shown_and_blocks_a_second(
    staff, make_client, hosting_at_12_50, settings
):
    """A staff charge whose gateway answer was lost stays pending: the client and invoice
    pages say so, with amount and card, and a second charge of the invoice is refused
    with the pending one named. Once settled (the engine's next run), the notice goes."""
    from groupbill.billing import accounts, charges

    ada = make_client()
    post(staff, f"/clients/{ada.pk}/services/order/", pricing=hosting_at_12_50.pk, quantity=1,
         start_on="2026-03-31")  # fmt: skip
    invoice = Invoice.objects.get(client=ada)
    card = accounts.add_payment_account(ada, {"kind": "card", "gateway": "test",
                                              "reference": "tok_0408", "last4": "0408"},
                                        actor="test")  # fmt: skip
    page = post(staff, f"/invoices/{invoice.pk}/", action="charge", account=card.pk, nonce="0")
    assert "Charge of Card ending 0408 sent; the gateway has not answered yet." in page
    [pending] = charges.pending_attempts(client_id=ada.pk)
    for url in (f"/invoices/{invoice.pk}/", f"/clients/{ada.pk}/"):
        shown = staff.get(url).content.decode()
        assert "Waiting for the gateway" in shown
        assert f"#{pending.pk}" in shown and "€12.50" in shown and "Card ending 0408" in shown
    page = post(staff, f"/invoices/{invoice.pk}/", action="charge", account=card.pk, nonce="1")
    assert f"Charge #{pending.pk} of 12.50 EUR" in page and "still waiting" in page

    settings.EFFECT_GRACE_SECONDS = 0
    charges.settle(pending)
    shown = staff.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Waiting for the gateway" not in shown and "Paid" in shown


def _refund_form(http, client, payment, **data):
    """The payment's Refund form on the client page, filled in: (its URL, its fields)."""
    action, fields = refund_form(http.get(f"/clients/{client.pk}/").content.decode(), payment.pk)
    return action, fields | data


def test_refund_from_the_client_page_takes_only_the_unapplied_part(staff, make_client):
    from groupbill.billing import payments
    from groupbill.billing.models import Transaction

    ada, bob = make_client(), make_client(first_name="Bob", email="bob@example.com")
    payment = payments.record_payment(ada, amount=3000, currency="EUR", actor="test")
    url, form = _refund_form(staff, ada, payment, amount="30.01")
    page = post(staff, url, **form)
    assert "amount: is more than the unapplied part of the payment" in page
    url, form = _refund_form(staff, ada, payment, amount="12.5", reference="asked back")
    page = post(staff, url, **form)
    assert "Refunded 12.50 EUR of the payment of " in page
    assert "€12.50 refunded" in page and "€17.50" in page  # left unapplied, the loose credit
    refund = Transaction.objects.get(refund_of=payment)
    assert (refund.amount, refund.reference) == (1250, "asked back")
    # Another client's page cannot name Ada's payment.
    url, form = _refund_form(staff, ada, payment, amount="1")
    response = staff.post(f"/clients/{bob.pk}/refund/", form)
    assert response.status_code == 404
    assert Transaction.objects.filter(refund_of=payment).count() == 1


def test_a_refund_form_sent_again_refunds_once(staff, make_client):
    """The form sent twice (a double click, the browser's resubmit) is one refund; sent
    again with another amount, or without its key, it refunds nothing."""
    from groupbill.billing import payments

    ada = make_client()
    payment = payments.record_payment(ada, amount=3000, currency="EUR", actor="test")
    url, form = _refund_form(staff, ada, payment, amount="5")
    assert "Refunded 5.00 EUR of the payment of " in post(staff, url, **form)
    page = post(staff, url, **form)
    assert "This refund was already made. Refunded 5.00 EUR of the payment of " in page
    refused = (
        "This form was already sent with another amount or reference, or is incomplete; "
        "nothing was refunded. Reload the page to refund again."
    )
    assert refused in post(staff, url, **form | {"amount": "6"})
    assert refused in post(staff, url, **{k: v for k, v in form.items() if k != "idempotency_key"})
    assert list(payment.refunds.values_list("amount", flat=True)) == [500]
    url, fresh = _refund_form(staff, ada, payment, amount="5")  # the page shown again: a new key
    assert fresh["idempotency_key"] != form["idempotency_key"]
    assert "Refunded 5.00 EUR" in post(staff, url, **fresh)
    assert list(payment.refunds.values_list("amount", flat=True)) == [500, 500]


def test_a_payment_form_sent_again_records_once(staff, make_client):
    """The invoice page's Record payment sent twice (a double click, the browser's
    resubmit) is one payment, even once the first paid the invoice; sent again with
    another amount, or without its key, it records nothing."""
    ada = make_client()
    invoice = invoices.create_invoice(ada, [invoices.NewLine("Hosting", 3000)], actor="test")
    invoices.issue_invoice(invoice, issued_on=date(2026, 3, 2), actor="test")
    url, form = _pay_form(staff, invoice, amount="10.00", reference="wire")
    page = post(staff, url, **form)
    [payment] = invoice.applications.values_list("transaction_id", flat=True)
    assert f"Payment #{payment} recorded." in page
    page = post(staff, url, **form)
    assert f"This payment was already recorded. Payment #{payment} recorded." in page
    refused = (
        "This form was already sent with another amount or reference, or is incomplete; "
        "nothing was recorded. Reload the page to record another payment."
    )
    assert refused in post(staff, url, **form | {"amount": "11.00"})
    assert refused in post(staff, url, **{k: v for k, v in form.items() if k != "idempotency_key"})
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (1000, "open")
    # The page shown again has a new key: the rest is a new payment, and its form sent
    # again after it paid the invoice is answered with it, not refused as paid.
    url, rest = _pay_form(staff, invoice, reference="wire 2")
    assert rest["idempotency_key"] != form["idempotency_key"] and rest["amount"] == "20.00"
    assert "Payment #" in post(staff, url, **rest)
    assert "This payment was already recorded." in post(staff, url, **rest)
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (3000, "paid")
    assert Transaction.objects.filter(client=ada).count() == 2
