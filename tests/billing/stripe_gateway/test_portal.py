"""The portal with Stripe: a card added in Stripe's own form (Elements, here localstripe's
stand-in for Stripe.js), and a payment the card holder must confirm with their bank
(3-D Secure): the message with its link, the page that finishes it, and the webhook that
books it."""

import os
import re
from datetime import date

import pytest

from groupbill.billing import charges, invoices
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import GatewayEvent, PaymentAccount, Transaction
from groupbill.notices.models import OutboxMessage
from tests.billing.stripe_gateway.conftest import AUTHENTICATES, VISA, WEBHOOK
from tests.conftest import ACTOR, ARTIFACTS, PORTAL_PASSWORD, portal_account, portal_session

ISSUED = date(2026, 3, 2)
ADD = "/portal/payment-methods/add/"
SAVE = "/portal/payment-methods/add/stripe/"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def shot(page, name: str) -> None:
    page.screenshot(path=os.path.join(ARTIFACTS, f"portal-stripe-{name}.png"), full_page=True)


def open_invoice(client, amount: int = 1000):
    invoice = invoices.create_invoice(client, [NewLine("Hosting March", amount)], actor=ACTOR)
    return invoices.issue_invoice(invoice, issued_on=ISSUED, due_on=ISSUED, actor=ACTOR)


def confirmed_setup_intent(stripe_fake, client, number: str = VISA) -> str:
    """A SetupIntent made for the client and confirmed with a card, as Stripe.js does."""
    from groupbill.billing import card_setup

    setup = card_setup.begin(client)
    method = stripe_fake.payment_method(number)
    stripe_fake.client.v1.setup_intents.confirm(setup.setup_intent_id, {"payment_method": method})
    return setup.setup_intent_id


def csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


# --- Without a browser -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_card_form_page_allows_stripe_js_only_there(stripe_fake, make_client):
    http = portal_session(make_client())
    origin = stripe_fake.server.url

    page = http.get(ADD)

    assert page.status_code == 200
    html = page.content.decode()
    assert f'<script src="{origin}/js.stripe.com/v3/"></script>' in html
    assert 'data-publishable-key="pk_test_groupbill_tests"' in html
    assert re.search(r'data-client-secret="seti_\w+_secret_\w+"', html)
    assert page.headers["Cache-Control"] == "no-store"
    policy = csp(page)
    assert policy["script-src"] == ["'self'", origin]
    assert origin in policy["frame-src"] and origin in policy["connect-src"]
    listing = http.get("/portal/payment-methods/")
    assert origin not in listing.headers["Content-Security-Policy"]
    assert 'id="add-card-link"' in listing.content.decode()
    assert 'name="number"' not in listing.content.decode()  # no number typed into Groupbill


@pytest.mark.django_db(transaction=True)
def test_without_stripe_the_page_stays_the_test_gateways_form(settings, make_client):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = ""
    http = portal_session(make_client())

    listing = http.get("/portal/payment-methods/")

    assert 'name="number"' in listing.content.decode()
    assert "js.stripe.com" not in listing.content.decode()
    assert "js.stripe.com" not in listing.headers["Content-Security-Policy"]
    assert http.get(ADD).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_number_typed_into_groupbill_is_refused_while_stripe_is_on(stripe_fake, make_client):
    client = make_client()
    http = portal_session(client)

    page = http.post(ADD, {"number": "4242424242424242", "expiry": "12/30"})

    assert page.status_code == 400
    assert "Enter the card in this form." in page.content.decode()
    assert not PaymentAccount.objects.filter(client=client).exists()


@pytest.mark.django_db(transaction=True)
def test_a_client_cannot_save_another_clients_setup_intent(stripe_fake, make_client):
    ada = make_client()
    bob = make_client(first_name="Bob", email="bob@example.com")
    theirs = confirmed_setup_intent(stripe_fake, ada)
    http = portal_session(bob)
    http.get(ADD)  # Bob's own customer exists: the SetupIntent is still not his

    page = http.post(SAVE, {"setup_intent": theirs})

    assert page.status_code == 400
    assert "The card was not saved: the card setup was not made for this client" in (
        page.content.decode()
    )
    assert not PaymentAccount.objects.exists()
    unconfirmed = http.post(SAVE, {"setup_intent": "seti_nothing"})
    assert "The card was not saved: the card setup is not a Stripe SetupIntent" in (
        unconfirmed.content.decode()
    )
    mine = confirmed_setup_intent(stripe_fake, bob)
    assert http.post(SAVE, {"setup_intent": mine}).status_code == 302
    [saved] = PaymentAccount.objects.all()
    assert (saved.client_id, saved.gateway, saved.last4) == (bob.pk, "stripe", "4242")


@pytest.mark.django_db(transaction=True)
def test_an_attempt_that_needs_3ds_queues_one_message_with_the_link(
    stripe_fake, make_client, settings
):
    settings.PORTAL_BASE_URL = "https://billing.example.com"
    client = make_client()
    invoice = open_invoice(client)
    card = stripe_fake.card(client, AUTHENTICATES)

    txn = charges.pay_with_account(invoice, card, actor=ACTOR, principal="apikey:1", key="k")
    charges.settle(txn)  # Stripe still waits: asked again, no second message

    assert txn.status == "pending"
    [message] = OutboxMessage.objects.filter(template="payment_action_required")
    link = f"https://billing.example.com/portal/payments/{txn.pk}/authenticate/"
    assert (message.client_id, message.invoice_id) == (client.pk, invoice.pk)
    assert message.context["authenticate_url"] == link
    assert message.context["amount"] == 1000 and message.context["currency"] == "EUR"
    http = portal_session(client)
    detail = http.get(f"/portal/invoices/{invoice.pk}/").content.decode()
    assert "Your bank asks you to confirm the payment of €10.00" in detail
    assert f'href="/portal/payments/{txn.pk}/authenticate/"' in detail
    stranger = portal_session(make_client(first_name="Eve", email="eve@example.com"))
    assert stranger.get(f"/portal/payments/{txn.pk}/authenticate/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_after_the_bank_check_the_page_waits_for_the_webhook_then_shows_the_invoice(
    stripe_fake, make_client
):
    client = make_client()
    invoice = open_invoice(client)
    card = stripe_fake.card(client, AUTHENTICATES)
    txn = charges.pay_with_account(invoice, card, actor=ACTOR, principal="apikey:1", key="k")
    http = portal_session(client)
    url = f"/portal/payments/{txn.pk}/authenticate/"
    stripe_fake.authenticate(txn.reference)  # done in Stripe.js; no webhook yet

    waiting = http.get(url)

    body = waiting.content.decode()
    assert "Your bank has confirmed the payment; it is being booked." in body
    assert '<meta http-equiv="refresh" content="3">' in body
    assert "js.stripe.com" not in body and "_secret_" not in body
    assert stripe_fake.server.url not in waiting.headers["Content-Security-Policy"]
    intent = stripe_fake.intent(txn.reference)
    assert (
        stripe_fake.deliver(http, stripe_fake.event("payment_intent.succeeded", intent)).status_code
        == 200
    )
    done = http.get(url, follow=True)
    assert done.redirect_chain == [(f"/portal/invoices/{invoice.pk}/", 302)]
    page = done.content.decode()
    assert "Your payment of 10.00 EUR was received. Thank you." in page
    assert 'id="awaiting-authentication"' not in page
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_the_message_says_what_to_confirm_and_where():
    from groupbill.notices import rendering

    values = {k: rendering.SAMPLE[k] for k in rendering.CONTEXTS["payment_action_required"]}
    out = rendering.render("payment_action_required", values, company_name="Acme",
                           client_name="Ada")  # fmt: skip
    assert out.subject == "Please confirm your payment: invoice 1001"
    assert "confirm the payment of €119.00 for invoice 1001 (3-D Secure)" in out.body
    assert "https://example.com/portal/payments/42/authenticate/" in out.body


def test_stripes_own_sources_are_added_to_any_policy():
    from groupbill.middleware import with_sources
    from groupbill.portal.stripe_js import sources

    policy = with_sources("default-src 'self'; connect-src 'none'; img-src 'self'",
                          sources("https://js.stripe.com/v3/"))  # fmt: skip

    assert policy == (
        "default-src 'self'; connect-src https://api.stripe.com; img-src 'self'; "
        "script-src 'self' https://js.stripe.com; "
        "frame-src 'self' https://js.stripe.com https://hooks.stripe.com"
    )


# --- In the browser ----------------------------------------------------------------------


def sign_in(page, email: str) -> None:
    page.fill("#id_email", email)
    page.fill("#id_password", PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_card_saved_with_elements_pays_an_invoice(stripe_fake, make_client, browser_page):
    page = browser_page
    client = make_client()
    portal_account(client)
    invoice = open_invoice(client)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto("/portal/payment-methods/")
    sign_in(page, "ada@example.com")
    page.get_by_role("link", name="Add a card").click()
    page.wait_for_url(re.compile(r"/payment-methods/add/$"))
    field = page.locator("#card-element")
    field.locator("input[placeholder=number]").wait_for()  # the stand-in's Element
    field.locator("input[placeholder=number]").fill(VISA)
    field.locator("input[placeholder=exp_month]").fill("12")
    field.locator("input[placeholder=exp_year]").fill("30")
    field.locator("input[placeholder=cvc]").fill("123")
    field.locator("input[placeholder=postal_code]").fill("10115")
    page.get_by_label("Use it for automatic payment of my invoices").check()
    shot(page, "card-form")
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url(re.compile(r"/payment-methods/$"))

    assert "Card ending 4242 added." in page.locator("ul.messages").inner_text()
    rows = page.locator("#accounts tbody tr")
    assert rows.count() == 1
    assert "Visa · Card ending 4242" in rows.first.inner_text()
    assert "12/2030" in rows.first.inner_text()
    assert "Used for automatic payment" in rows.first.inner_text()
    shot(page, "card-saved")
    [account] = PaymentAccount.objects.filter(client=client)
    assert (account.gateway, account.reference[:3]) == ("stripe", "pm_")
    assert stripe_fake.client.v1.payment_methods.retrieve(account.reference).customer

    page.goto(f"/portal/invoices/{invoice.pk}/")
    page.get_by_role("button", name="Pay now").click()
    assert "Payment approved; thank you." in page.locator("ul.messages").inner_text()
    assert page.locator("h1 .badge").inner_text() == "Paid"
    assert page.locator("#balance").inner_text() == "€0.00"
    shot(page, "card-paid")
    [intent] = stripe_fake.payment_intents()
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 1000, "eur")
    assert intent["payment_method"] == account.reference
    assert not errors, errors  # no CSP refusal, no script error


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_3ds_payment_finished_by_the_client_from_the_message(
    stripe_fake, make_client, browser_page, live_server, settings
):
    page = browser_page
    settings.PORTAL_BASE_URL = live_server.url
    client = make_client()
    portal_account(client)
    invoice = open_invoice(client)
    card = stripe_fake.card(client, AUTHENTICATES, autodebit=True)
    txn = charges.autodebit(card, "EUR", [invoice.pk], key="autodebit-1", actor="automation")
    assert txn.status == "pending"
    [message] = OutboxMessage.objects.filter(template="payment_action_required")
    link = message.context["authenticate_url"]
    assert link == f"{live_server.url}/portal/payments/{txn.pk}/authenticate/"
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    stripe_fake.server.webhook(live_server.url + WEBHOOK)  # localstripe's own, signed
    try:
        page.goto(link)
        sign_in(page, "ada@example.com")  # the link leads back after signing in
        page.wait_for_url(link)
        box = page.locator("#payment-action")
        assert f"Payment of €10.00 for invoice {invoice.number}" in box.inner_text()
        assert "Your bank asks you to confirm this payment (3-D Secure)" in box.inner_text()
        shot(page, "3ds-page")
        page.get_by_role("button", name="Confirm with my bank").click()
        # localstripe's stand-in for the bank's check
        page.get_by_role("button", name="Complete authentication").wait_for()
        shot(page, "3ds-bank")
        page.get_by_role("button", name="Complete authentication").click()
        # The webhook books it; the page then leads to the invoice, paid.
        page.wait_for_url(re.compile(rf"/portal/invoices/{invoice.pk}/$"), timeout=30_000)
    finally:
        stripe_fake.server.webhook("http://127.0.0.1:9/")  # nowhere, for later tests

    assert "Your payment of 10.00 EUR was received." in page.locator("ul.messages").inner_text()
    assert page.locator("h1 .badge").inner_text() == "Paid"
    assert page.locator("#balance").inner_text() == "€0.00"
    assert page.locator("#awaiting-authentication").count() == 0
    shot(page, "3ds-paid")
    txn.refresh_from_db()
    assert (txn.status, txn.reference) == ("approved", stripe_fake.payment_intents()[0]["id"])
    assert Transaction.objects.filter(kind="payment").count() == 1
    assert OutboxMessage.objects.filter(template="payment_received").count() == 1
    assert GatewayEvent.objects.filter(type="payment_intent.succeeded").count() == 1
    assert not errors, errors


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_invoice_banner_leads_to_the_bank_check(stripe_fake, make_client, browser_page):
    """Paying in the portal with a card that needs 3-D Secure goes straight to the check;
    the invoice shows the payment waiting for it."""
    page = browser_page
    client = make_client()
    portal_account(client)
    invoice = open_invoice(client)
    stripe_fake.card(client, AUTHENTICATES)
    page.goto(f"/portal/invoices/{invoice.pk}/")
    sign_in(page, "ada@example.com")
    page.get_by_role("button", name="Pay now").click()
    [txn] = Transaction.objects.filter(kind="payment")
    page.wait_for_url(re.compile(rf"/portal/payments/{txn.pk}/authenticate/$"))
    page.goto(f"/portal/invoices/{invoice.pk}/")
    banner = page.locator("#awaiting-authentication")
    assert "Your bank asks you to confirm the payment of €10.00" in banner.inner_text()
    assert page.locator("h1 .badge").inner_text() == "Open"
    shot(page, "3ds-banner")
    banner.get_by_role("link", name="Confirm the payment").click()
    page.wait_for_url(re.compile(rf"/portal/payments/{txn.pk}/authenticate/$"))
    assert page.get_by_role("button", name="Confirm with my bank").is_visible()
