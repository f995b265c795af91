"""Exactly once with Stripe and real processes (as tests/billing/test_exactly_once.py does
with the sandbox): a served instance is killed with SIGKILL after Stripe has taken the money
and before the ledger knows it; the next engine run settles the attempt from Stripe's record
of its key (listing the PaymentIntents: localstripe has no search) and charges nothing
again."""

from datetime import date, timedelta

import pytest

from groupbill.api.actions import create_api_key
from groupbill.billing import invoices
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Transaction
from groupbill.settings_catalog.actions import set_group_setting
from tests import processes
from tests.billing.stripe_gateway import fake
from tests.billing.stripe_gateway.conftest import VISA
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
