from datetime import date

import pytest

from groupbill.billing import accounts, charges, invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import SandboxCharge
from groupbill.errors import Conflict, ValidationFailed
from tests.conftest import ACTOR

CARD = {"kind": "card", "gateway": "test", "reference": "tok_visa", "last4": "4242"}


def test_accounts_keep_a_token_never_a_number(make_client):
    client = make_client()
    with pytest.raises(ValidationFailed) as refused:
        accounts.add_payment_account(
            client, {**CARD, "reference": "4111 1111 1111 1111", "last4": "42"}, actor=ACTOR
        )
    assert {e.field for e in refused.value.errors} == {"reference", "last4"}
    with pytest.raises(ValidationFailed):
        accounts.add_payment_account(client, {**CARD, "gateway": "paypal"}, actor=ACTOR)


def test_one_autodebit_account_per_client(make_client):
    client = make_client()
    first = accounts.add_payment_account(client, {**CARD, "is_autodebit": True}, actor=ACTOR)
    second = accounts.add_payment_account(client, {**CARD, "is_autodebit": True}, actor=ACTOR)
    first.refresh_from_db()
    assert (first.is_autodebit, second.is_autodebit) == (False, True)
    accounts.set_autodebit(first, actor=ACTOR)
    second.refresh_from_db()
    assert client.payment_accounts.filter(is_autodebit=True).get() == first


def test_disabling_for_autodebit_writes_the_note_once(make_client):
    client = make_client()
    account = accounts.add_payment_account(client, {**CARD, "is_autodebit": True}, actor=ACTOR)
    for _ in range(2):
        accounts.disable_for_autodebit(account, reason="3 declines in a row", actor="engine")
    account.refresh_from_db()
    assert account.autodebit_disabled and account.disabled_reason == "3 declines in a row"
    assert [n.text for n in client.notes.all()] == [
        "Card ending 4242 was disabled for auto debit: 3 declines in a row"
    ]
    accounts.set_autodebit(account, actor=ACTOR)  # staff re-enable: counts start again
    account.refresh_from_db()
    assert (account.autodebit_disabled, account.failure_count) == (False, 0)


def test_card_payments_are_refunded_through_the_gateway(make_client):
    client = make_client()
    account = accounts.add_payment_account(client, CARD, actor=ACTOR)
    invoice = invoices.create_invoice(client, [NewLine("Hosting", 1000)], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=date(2026, 1, 1), actor=ACTOR)
    payment = charges.pay_with_account(invoice, account, actor=ACTOR, principal=ACTOR, key="k")
    payments.unapply(invoice, actor=ACTOR, amount=400)
    refund = payments.refund(payment, amount=400, actor=ACTOR)
    assert refund.reference.startswith("sbx_")
    rows = SandboxCharge.objects.order_by("pk").values_list("operation", "amount")
    assert list(rows) == [("charge", 1000), ("refund", 400)]
    assert payments.balances([client.pk])[client.pk][0].credit == 0


def test_a_declined_refund_is_kept_and_the_next_attempt_has_its_own_key(make_client):
    client = make_client()
    account = accounts.add_payment_account(client, CARD, actor=ACTOR)
    invoice = invoices.create_invoice(client, [NewLine("Hosting", 1000)], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=date(2026, 1, 1), actor=ACTOR)
    payment = charges.pay_with_account(invoice, account, actor=ACTOR, principal=ACTOR, key="c1")
    payments.unapply(invoice, actor=ACTOR)
    # The sandbox declines refunds of a charge it never approved: make it forget this one.
    SandboxCharge.objects.filter(operation="charge").update(outcome="declined")
    with pytest.raises(Conflict, match="refused the refund"):
        payments.refund(payment, amount=300, actor=ACTOR)
    SandboxCharge.objects.filter(operation="charge").update(outcome="approved")
    payments.refund(payment, amount=400, actor=ACTOR)  # another amount, a new key: fine
    statuses = list(payment.refunds.order_by("pk").values_list("status", "amount"))
    assert statuses == [("declined", 300), ("approved", 400)]
    assert payments.balances([client.pk])[client.pk][0].credit == 600
