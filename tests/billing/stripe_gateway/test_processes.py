"""Stripe with real processes: exactly once (as tests/billing/test_exactly_once.py shows
with the sandbox) when a served instance is killed with SIGKILL after Stripe has taken the
money and before the ledger knows it: the next engine run settles the attempt from Stripe's
record of its key (listing the PaymentIntents: localstripe has no search) and charges
nothing again. And localstripe's own webhook delivery, signed its way, reaching a served
instance and booking a payment the card holder authenticated (3-D Secure)."""

import json
import threading
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest

from groupbill.api.actions import create_api_key
from groupbill.billing import charges, invoices
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import GatewayEvent, Transaction
from groupbill.notices.models import OutboxMessage
from groupbill.settings_catalog.actions import set_group_setting
from tests import processes
from tests.billing.stripe_gateway import fake
from tests.billing.stripe_gateway.conftest import AUTHENTICATES, VISA
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db(transaction=True)

ISSUED = date(2026, 3, 2)


def test_server_killed_between_the_payment_intent_and_the_ledger(stripe_fake, make_client):
    client = make_client()
    set_group_setting(client.group, "autodebit_days_before_due", 0, actor=ACTOR)
    invoice = invoices.create_invoice(client, [NewLine("Hosting March", 1000)], actor=ACTOR)
    invoice = invoices.issue_invoice(invoice, issued_on=ISSUED, due_on=ISSUED, actor=ACTOR)
    card = stripe_fake.card(client, VISA, autodebit=True)
    stripe_fake.proxy.hold(card.reference)  # Stripe acts; its answer is kept back
    _, key = create_api_key("killed", actor=ACTOR)
    env = fake.environment(stripe_fake.proxy.url, stripe_fake.server.url)

    with processes.served(**env) as server:
        body = {"payment_account_id": card.pk, "idempotency_key": "pay-1"}
        server.api_in_background("POST", f"/invoices/{invoice.pk}/payments", body, key)
        assert stripe_fake.proxy.held.wait(60), "the PaymentIntent never reached Stripe"
        processes.kill(server.process)

    [intent] = stripe_fake.payment_intents()
    [attempt] = Transaction.objects.filter(kind="payment")
    assert (intent["status"], attempt.status, attempt.reference) == ("succeeded", "pending", "")
    assert intent["metadata"]["groupbill_key"] == attempt.gateway_key

    code, doc, err = processes.run_engine(
        str(ISSUED + timedelta(days=1)), GROUPBILL_EFFECT_GRACE_SECONDS="0", **env
    )

    assert code == 0, err
    settle = next(t for t in doc["tasks"] if t["name"] == "settle_pending")
    assert (settle["applied"], settle["actions"][0]["status"]) == (1, "approved")
    attempt.refresh_from_db()
    invoice.refresh_from_db()
    assert (attempt.status, attempt.reference, invoice.status) == ("approved", intent["id"], "paid")
    assert len(stripe_fake.payment_intents()) == 1  # auto debit charged nothing again


def test_localstripes_webhook_books_an_authenticated_payment(stripe_fake, make_client):
    """A card needs 3-D Secure: the charge stays pending. The card holder authenticates;
    localstripe then POSTs payment_intent.succeeded, signed with the endpoint's secret, to
    the served instance's webhook, which books the payment."""
    client = make_client()
    invoice = invoices.create_invoice(client, [NewLine("Hosting March", 1000)], actor=ACTOR)
    invoice = invoices.issue_invoice(invoice, issued_on=ISSUED, due_on=ISSUED, actor=ACTOR)
    card = stripe_fake.card(client, AUTHENTICATES)
    txn = charges.pay_with_account(invoice, card, actor=ACTOR, principal="apikey:1", key="k")
    assert txn.status == "pending"
    env = fake.environment(stripe_fake.proxy.url, stripe_fake.server.url)

    with processes.served(**env) as server:
        stripe_fake.server.webhook(f"{server.base}/api/v1/gateways/stripe/webhook")
        try:
            stripe_fake.authenticate(txn.reference)

            def booked() -> bool:
                txn.refresh_from_db()
                return txn.status != "pending"

            processes.wait_until(booked, 30, "localstripe's webhook to be booked")
        finally:
            stripe_fake.server.webhook("http://127.0.0.1:9/")  # nowhere, for later tests

    invoice.refresh_from_db()
    assert (txn.status, invoice.status) == ("approved", "paid")


def test_the_same_event_delivered_eight_times_at_once_is_booked_once(stripe_fake, make_client):
    """Stripe may deliver an event again while the first delivery is still being handled:
    eight deliveries of one payment_intent.succeeded at the same moment to a served
    instance book the payment once, queue one payment-received message and record the event
    once; every delivery is answered 200."""
    client = make_client()
    invoice = invoices.create_invoice(client, [NewLine("Hosting March", 1000)], actor=ACTOR)
    invoice = invoices.issue_invoice(invoice, issued_on=ISSUED, due_on=ISSUED, actor=ACTOR)
    card = stripe_fake.card(client, VISA)
    stripe_fake.proxy.lose(card.reference)
    txn = charges.pay_with_account(invoice, card, actor=ACTOR, principal="apikey:1", key="k")
    [intent] = stripe_fake.payment_intents()
    payload, signature = stripe_fake.signed(stripe_fake.event("payment_intent.succeeded", intent))
    answers, start = [], threading.Barrier(8)

    with processes.served(**fake.environment(stripe_fake.proxy.url, stripe_fake.server.url)) as s:

        def deliver() -> None:
            request = urllib.request.Request(
                f"{s.base}/api/v1/gateways/stripe/webhook", data=payload, method="POST",
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )  # fmt: skip
            start.wait()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answers.append((response.status, json.loads(response.read())["status"]))
            except urllib.error.HTTPError as error:
                answers.append((error.code, error.read().decode()))

        threads = [threading.Thread(target=deliver) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert sorted(answers) == [(200, "duplicate")] * 7 + [(200, "handled")], answers
    txn.refresh_from_db()
    invoice.refresh_from_db()
    assert (txn.status, invoice.status, invoice.amount_paid) == ("approved", "paid", 1000)
    assert OutboxMessage.objects.filter(template="payment_received").count() == 1
    assert GatewayEvent.objects.count() == 1
