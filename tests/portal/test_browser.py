"""The client portal driven as a client would, in headless Chromium: one client in a group
that allows every self-service action, one in a group that allows none."""

import os
import re

import pytest

from groupbill.billing.models import Invoice, InvoiceStatus, PaymentAccount
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.actions import create_group
from groupbill.clients.models import Contact
from groupbill.companies.queries import company_today
from groupbill.portal.dates import day_text
from groupbill.services import actions as services
from groupbill.services.models import ChangeStatus, Service, ServiceChange, ServiceStatus
from groupbill.settings_catalog.actions import set_group_setting
from groupbill.settings_catalog.resolver import resolve_client
from tests.conftest import ACTOR, ARTIFACTS, PORTAL_PASSWORD, portal_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GATES = ("client_can_cancel_services", "client_can_change_term", "client_can_change_package",
         "client_can_create_addons", "client_can_set_invoice_method")  # fmt: skip


def shot(page, name: str) -> None:
    page.screenshot(path=os.path.join(ARTIFACTS, f"portal-{name}.png"), full_page=True)


@pytest.fixture
def open_and_closed_groups(company, make_client):
    """Two groups with opposite settings, a client with an active monthly Basic service and
    its open first invoice in each, and a catalogue with a bigger package, a yearly term and
    an addon."""
    basic = Package.objects.create(company=company, name="Basic")
    pro = Package.objects.create(company=company, name="Pro")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(basic, pro)

    def price(package, unit, amount):
        return PackagePrice.objects.create(package=package, unit=unit, count=1, currency="EUR",
                                           price=amount)  # fmt: skip

    prices = {
        "basic": price(basic, "month", 1000),
        "basic_year": price(basic, "year", 10000),
        "pro": price(pro, "month", 3000),
        "pro_year": price(pro, "year", 30000),
        "backup": price(backup, "month", 500),
    }
    opened = create_group(company, {"name": "Open"}, actor=ACTOR)
    for key in (*GATES, "show_tax_id_field"):
        set_group_setting(opened, key, True, actor=ACTOR)
    set_group_setting(opened, "delivery_methods", ["email", "paper"], actor=ACTOR)
    set_group_setting(opened, "required_contact_fields", ["phone"], actor=ACTOR)
    closed = create_group(company, {"name": "Closed"}, actor=ACTOR)
    for key in (*GATES, "show_tax_id_field"):
        set_group_setting(closed, key, False, actor=ACTOR)
    # Paper is offered here too, so refusing it can only be the gate's doing.
    set_group_setting(closed, "delivery_methods", ["email", "paper"], actor=ACTOR)

    today = company_today(company)

    def customer(group, first_name, email):
        client = make_client(group=group, first_name=first_name, email=email, phone="+49 30 1")
        portal_account(client)
        service = services.add_service(client, pricing=prices["basic"], start_on=today,
                                       actor=ACTOR)  # fmt: skip
        invoice = service.first_invoice
        service = services.provision(service, actor=ACTOR)
        assert invoice.status == InvoiceStatus.OPEN and invoice.total == 1000
        return client, service, invoice

    return {
        "prices": prices,
        "today": today,
        "open": customer(opened, "Olivia", "olivia@example.com"),
        "closed": customer(closed, "Carl", "carl@example.com"),
    }


def sign_in(page, email: str, screenshot: str | None = None) -> None:
    page.goto("/portal/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PORTAL_PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/$"))


def status_text(page) -> str:
    return page.locator("ul.messages").inner_text()


def test_open_group_client_serves_themselves(browser_page, open_and_closed_groups):
    page = browser_page
    p = open_and_closed_groups["prices"]
    client, service, invoice = open_and_closed_groups["open"]
    sign_in(page, "olivia@example.com", screenshot="login")

    # Dashboard: the open invoice, what is due, the service.
    assert page.locator("h1").inner_text() == "Welcome, Olivia Lovelace"
    assert f"Invoice {invoice.number}" in page.locator("#open-invoices").inner_text()
    assert "€10.00 due" in page.locator("#balance").inner_text()
    assert "Basic" in page.locator("#services").inner_text()
    shot(page, "dashboard")
    page.get_by_role("navigation", name="Client area").get_by_role("link", name="Services").click()
    assert page.locator("#services tbody tr").count() == 1
    shot(page, "services")

    # Payment methods: a card the issuer declines, then a good one.
    page.goto("/portal/payment-methods/")
    form = page.locator("#add-card")
    form.locator("#id_number").fill("4000 0000 0000 0002")
    form.locator("#id_expiry").fill("12/30")
    form.locator("#id_label").fill("Old card")
    form.get_by_role("button", name="Add card").click()
    assert "ending 0002 added" in status_text(page)
    form.locator("#id_number").fill("4242424242424242")
    form.locator("#id_expiry").fill("11/31")
    form.locator("#id_label").fill("Work card")
    form.get_by_label("Use it for automatic payment of my invoices").check()
    form.get_by_role("button", name="Add card").click()
    assert "ending 4242 added" in status_text(page)
    rows = page.locator("#accounts tbody tr")
    assert rows.count() == 2
    assert "Used for automatic payment" in rows.nth(1).inner_text()
    assert "11/2031" in rows.nth(1).inner_text()
    shot(page, "payment-methods")
    good = PaymentAccount.objects.get(client=client, last4="4242")
    assert good.label == "Work card" and good.is_autodebit
    assert good.expires_on.isoformat() == "2031-11-30"
    assert "4242424242424242" not in good.reference  # tokenized, never stored
    bad = PaymentAccount.objects.get(client=client, last4="0002")
    assert not bad.is_autodebit

    # Pay the open invoice: the declined card leaves it open, the good one pays it.
    page.goto(f"/portal/invoices/{invoice.pk}/")
    page.get_by_label("Payment method").select_option(str(bad.pk))
    page.click("#pay-account")
    assert "The payment was not taken" in status_text(page)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and invoice.amount_paid == 0
    page.get_by_label("Payment method").select_option(str(good.pk))
    page.click("#pay-account")
    assert f"Payment approved; thank you. Invoice {invoice.number} is paid." in status_text(page)
    assert page.locator("h1 .badge").inner_text() == "Paid"
    assert page.locator("#balance").inner_text() == "€0.00"
    assert page.locator("#pay-account").count() == 0
    # The payment is dated in the company's calendar, like the invoice (not in UTC).
    payment = page.locator("h2:text-is('Payments') + table tbody tr")
    assert payment.count() == 1
    assert payment.inner_text().split("\t")[0] == day_text(open_and_closed_groups["today"], "en")
    shot(page, "invoice-detail")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == 1000
    page.goto("/portal/")
    assert page.locator("#open-invoices").count() == 0
    assert "€10.00 due" not in page.locator("#balance").inner_text()
    assert "No open invoices." in page.locator("main").inner_text()

    # Change package: the preview prices the upgrade for the rest of the month and changes
    # nothing; confirming does it.
    page.goto(f"/portal/services/{service.pk}/")
    shot(page, "service-detail")
    invoices_before = Invoice.objects.filter(client=client).count()
    page.get_by_role("link", name="Change package").click()
    page.get_by_label("Pro · 1 month · €30.00").check()
    page.get_by_role("button", name="Show the price").click()
    effect = page.locator("#price-effect")
    assert page.locator("#effect-outcome").inner_text() == "The new package is active now."
    assert effect.locator(".effect-total").inner_text() == "€20.00"
    shot(page, "change-package-preview")
    assert Invoice.objects.filter(client=client).count() == invoices_before
    assert not ServiceChange.objects.filter(service=service).exists()
    service.refresh_from_db()
    assert service.package.name == "Basic"
    page.click("#confirm")
    page.wait_for_url(f"**/portal/services/{service.pk}/")
    assert "The new package is active now." in status_text(page)
    assert page.locator("h1").inner_text().startswith("Pro")
    service.refresh_from_db()
    assert service.pricing_id == p["pro"].pk
    change = ServiceChange.objects.get(service=service)
    assert change.status == ChangeStatus.APPLIED
    assert change.invoice.total == 2000 and change.invoice.status == InvoiceStatus.OPEN
    assert f"Invoice {change.invoice.number}" in page.locator("#changes").inner_text()

    # Change the term: nothing to pay now, the yearly term starts at the next renewal.
    renewal = service.renew_date
    page.get_by_role("link", name="Change billing term").click()
    page.get_by_label("Pro · 1 year · €300.00").check()
    page.get_by_role("button", name="Show the price").click()
    assert page.locator("#effect-outcome").inner_text() == (
        f"The new term starts at your next renewal, on {day_text(renewal, 'en')}."
    )
    assert page.locator(".effect-none").is_visible()
    page.click("#confirm")
    page.wait_for_url(f"**/portal/services/{service.pk}/")
    service.refresh_from_db()
    assert service.pricing_id == p["pro_year"].pk
    assert service.anchor_date == renewal
    assert ServiceChange.objects.filter(service=service, status=ChangeStatus.APPLIED).count() == 2

    # Order an addon: invoiced now, pending until paid.
    page.get_by_role("link", name="Order an addon").click()
    page.get_by_label("Backup · 1 month · €5.00").check()
    page.get_by_role("button", name="Show the price").click()
    assert page.locator("#effect-outcome").inner_text() == (
        "Backup is ordered; it starts once its invoice is paid."
    )
    assert page.locator(".effect-total").inner_text() == "€5.00"
    assert not service.addons.exists()
    page.click("#confirm")
    page.wait_for_url(f"**/portal/services/{service.pk}/")
    addon = service.addons.get()
    assert addon.package.name == "Backup" and addon.status == ServiceStatus.PENDING
    addon_invoice = Invoice.objects.get(lines__service=addon)
    assert addon_invoice.total == 500 and addon_invoice.status == InvoiceStatus.OPEN
    assert "Backup" in page.locator("main").get_by_role("table").first.inner_text()

    # Cancel at the end of the term: the preview names the date, confirming schedules it.
    page.get_by_role("link", name="Cancel service").click()
    page.get_by_label("At the end of the current term").check()
    page.fill("#id_reason", "Moving elsewhere")
    page.get_by_role("button", name="Show what this does").click()
    outcome = f"Pro ends on {day_text(renewal, 'en')}."
    assert page.locator("#effect-outcome").inner_text() == outcome
    shot(page, "cancel-preview")
    service.refresh_from_db()
    assert service.cancel_at is None
    page.click("#confirm")
    page.wait_for_url(f"**/portal/services/{service.pk}/")
    assert outcome in status_text(page)
    # The outcome message words the date as ISO, the page in Django's format.
    assert f"ends on {day_text(renewal, 'en')}" in page.locator(".facts").inner_text()
    assert page.get_by_role("link", name="Cancel service").count() == 0
    service.refresh_from_db()
    assert service.cancel_at == renewal and service.status == ServiceStatus.ACTIVE
    assert service.cancel_reason == "Moving elsewhere"

    # A contact without the phone the group requires: refused, nothing saved; then with it.
    contacts_before = Contact.objects.filter(client=client).count()
    page.goto("/portal/contacts/")
    page.get_by_role("link", name="Add a contact").click()
    page.select_option("#id_role", "billing")
    page.fill("#id_first_name", "Bob")
    page.fill("#id_last_name", "Builder")
    page.fill("#id_email", "bob@example.com")
    page.get_by_role("button", name="Save").click()
    # The browser itself stops the form (the field is marked required) ...
    assert page.locator("#id_phone").evaluate("e => !e.validity.valid")
    assert page.url.endswith("/portal/contacts/add/")
    # ... and the server refuses it too when the browser does not.
    page.locator("#id_phone").evaluate("e => e.removeAttribute('required')")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    errors = page.locator("#contact-form .errorlist").inner_text()
    assert 'is required for contacts of group "Open"' in errors
    assert page.input_value("#id_first_name") == "Bob"
    shot(page, "contacts-error")
    assert Contact.objects.filter(client=client).count() == contacts_before
    page.fill("#id_phone", "+49 30 1234567")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/portal/contacts/")
    assert "Contact added." in status_text(page)
    assert "Bob Builder" in page.locator("#contacts").inner_text()
    bob = Contact.objects.get(client=client, email="bob@example.com")
    assert (bob.role, bob.phone) == ("billing", "+49 30 1234567")

    # Profile: Tax ID and paper invoices.
    page.goto("/portal/profile/")
    shot(page, "profile-open")
    page.fill("#id_tax_id", "DE136695976")
    page.select_option("#id_invoice_method", "paper")
    page.get_by_role("button", name="Save profile").click()
    assert "Profile saved." in status_text(page)
    assert page.input_value("#id_tax_id") == "DE136695976"
    assert page.input_value("#id_invoice_method") == "paper"
    client.refresh_from_db()
    assert client.tax_id == "DE136695976"
    assert resolve_client(client.pk)["invoice_method"].value == "paper"


def test_closed_group_client_is_refused_everything(
    browser_page, open_and_closed_groups, live_server
):
    page = browser_page
    p = open_and_closed_groups["prices"]
    client, service, _ = open_and_closed_groups["closed"]
    sign_in(page, "carl@example.com")

    # The service page offers nothing to change.
    page.goto(f"/portal/services/{service.pk}/")
    manage = page.locator("#manage")
    assert manage.get_by_role("link").count() == 0
    assert "To change or cancel this service, please contact us." in manage.inner_text()
    shot(page, "service-detail-closed")

    # The profile has neither a Tax ID field nor an invoice-method choice.
    page.goto("/portal/profile/")
    assert page.locator("#id_tax_id").count() == 0
    assert page.locator("#id_invoice_method").count() == 0
    assert page.locator("#id_language").is_visible()
    shot(page, "profile-closed")
    token = page.locator("#profile-form input[name=csrfmiddlewaretoken]").input_value()

    base = f"/portal/services/{service.pk}"
    refused = {
        "cancel services online": (f"{base}/cancel/", {"when": "now"}),
        "change the billing term of services online": (
            f"{base}/change-term/", {"pricing": p["basic_year"].pk}),
        "change packages online": (f"{base}/change-package/", {"pricing": p["pro"].pk}),
        "order addons online": (f"{base}/addons/order/", {"pricing": p["backup"].pk}),
    }  # fmt: skip

    # Each action page, even with a choice in its address, answers 403 with the reason.
    for what, (url, params) in refused.items():
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = page.goto(f"{url}?{query}")
        assert response.status == 403, url
        message = page.locator("#forbidden-message").inner_text()
        assert message == f"Your account does not allow you to {what}. Please contact us to do it."
        assert page.locator("#price-effect").count() == 0
    shot(page, "forbidden")

    def post(url, data):
        return page.request.post(
            url,
            form={**data, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{live_server.url}/portal/profile/"},
            max_redirects=0,
        )

    def snapshot():
        s = Service.objects.get(pk=service.pk)
        client.refresh_from_db()
        return {
            "service": (s.status, s.package_id, s.pricing_id, s.cancel_at, s.anchor_date),
            "services": Service.objects.filter(client=client).count(),
            "changes": ServiceChange.objects.filter(service__client=client).count(),
            "invoices": list(Invoice.objects.filter(client=client).values_list("pk", "status",
                                                                                "total")),
            "tax_id": client.tax_id,
            "invoice_method": resolve_client(client.pk)["invoice_method"].value,
        }  # fmt: skip

    before = snapshot()
    assert before["services"] == 1 and before["invoice_method"] == "email"

    # Forged confirmations are refused by the server with the same reason.
    for what, (url, data) in refused.items():
        response = post(url, data)
        assert response.status == 403, (url, response.text()[:500])
        assert f"Your account does not allow you to {what}." in response.text()
    profile_refusals = [
        ({"tax_id": "DE136695976"}, "edit the Tax ID online"),
        ({"invoice_method": "paper"}, "choose how invoices are delivered"),
    ]
    for data, what in profile_refusals:
        response = post("/portal/profile/", {"form": "profile", **data})
        assert response.status == 403, (data, response.text()[:500])
        assert f"Your account does not allow you to {what}." in response.text()
    assert snapshot() == before

    # The same token and session are accepted for what the group allows, so the refusals
    # above are the gates' and not a CSRF failure.
    response = post("/portal/profile/", {"form": "profile", "language": "de"})
    assert response.status == 302, response.text()[:500]
    client.refresh_from_db()
    assert client.language == "de"
    assert snapshot() == before
