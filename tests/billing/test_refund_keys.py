"""A refund is made once per key, as a charge is: the staff Refund form sent six times at
once to a served instance (its session, CSRF token and key as the page gave them) refunds
once, by hand or through the card's gateway; a key sent again with another amount is
refused and refunds nothing. Every test reads the end state from the database."""

import re
import threading
from datetime import date

import pytest

from groupbill.billing import accounts, charges, invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import SandboxCharge, Transaction
from groupbill.errors import ValidationFailed
from tests import processes
from tests.conftest import ACTOR, failure_fields
from tests.web.form_helpers import refund_form

CARD = {"kind": "card", "gateway": "test", "reference": "tok_visa_4242", "last4": "4242"}


def _paid(client, how: str) -> Transaction:
    """A 30.00 EUR payment none of which is applied: recorded by hand, or charged to a
    card (then taken off its invoice)."""
    if how == "manual":
        return payments.record_payment(client, amount=3000, currency="EUR", actor=ACTOR)
    account = accounts.add_payment_account(client, CARD, actor=ACTOR)
    invoice = invoices.create_invoice(client, [NewLine("Hosting", 3000)], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=date(2026, 3, 2), actor=ACTOR)
    payment = charges.pay_with_account(invoice, account, actor=ACTOR, principal=ACTOR, key="c")
    payments.unapply(invoice, actor=ACTOR)
    return payment


def message(page: str) -> str:
    """The message the page shows after a posted action."""
    return re.search(r'role="status">([^<]*)</li>', page)[1]


def _refunds(payment: Transaction) -> list[tuple[str, int]]:
    return list(payment.refunds.order_by("pk").values_list("status", "amount"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["manual", "card"])
def test_the_refund_form_sent_six_times_at_once_refunds_once(how, make_client, django_user_model):
    """6 x 5.00 EUR would fit in the 30.00 unapplied: only the form's key keeps it to one."""
    client = make_client()
    payment = _paid(client, how)
    django_user_model.objects.create_user(
        "clerk", "clerk@example.com", "correct horse", is_staff=True, is_superuser=True
    )
    answers, start = [], threading.Barrier(6)

    with processes.served() as server:
        browser = server.sign_in("clerk", "correct horse")
        _, page = browser.get(f"/clients/{client.pk}/")
        action, fields = refund_form(page, payment.pk)
        fields |= {"amount": "5.00", "reference": "asked back"}
        tabs = [browser.tab() for _ in range(6)]

        def send(tab: processes.Browser) -> None:
            start.wait()
            answers.append(tab.post(action, fields))

        threads = [threading.Thread(target=send, args=(tab,)) for tab in tabs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert [status for status, _ in answers] == [200] * 6
    # One tab made the refund; the others, waiting on the client's lock meanwhile, were
    # answered with it (still on its way to the gateway, or booked).
    said = [re.sub(r"\d{4}-\d\d-\d\d", "DAY", message(page)) for _, page in answers]
    made = "Refunded 5.00 EUR of the payment of DAY."
    sent = "Refund of 5.00 EUR sent to the test gateway; booked once it answers."
    assert said.count(made) == 1, said
    assert set(said) - {made} <= {f"This refund was already made. {made}",
                                  f"This refund was already sent. {sent}"}, said  # fmt: skip
    assert _refunds(payment) == [("approved", 500)]
    refund = payment.refunds.get()
    assert (refund.principal, refund.idempotency_key) == (
        f"staff:{django_user_model.objects.get(username='clerk').pk}",
        fields["idempotency_key"],
    )
    if how == "card":
        assert SandboxCharge.objects.filter(operation="refund").count() == 1
    assert payments.balances([client.pk])[client.pk][0].credit == 2500


@pytest.mark.parametrize("how", ["manual", "card"])
def test_a_refund_key_sent_with_another_amount_is_refused_and_refunds_nothing(how, make_client):
    client = make_client()
    payment = _paid(client, how)
    first = payments.refund(payment, amount=500, actor=ACTOR, principal="staff:1",
                            idempotency_key="r-1")  # fmt: skip
    for other in ({"amount": 600}, {"amount": 500, "reference": "another"}):
        with pytest.raises(ValidationFailed) as refused:
            payments.refund(payment, **{"amount": 500, "actor": ACTOR, "principal": "staff:1",
                                        "idempotency_key": "r-1", **other})  # fmt: skip
        assert failure_fields(refused) == {
            "idempotency_key": f"was used for another request (transaction #{first.pk}); "
            "nothing was refunded. Send a new key with a new request."
        }
    # The same request again answers the first refund; another principal's key is its own.
    again = payments.make_refund(payment, amount=500, actor=ACTOR, principal="staff:1",
                                 idempotency_key="r-1")  # fmt: skip
    assert again == (first, False)
    theirs = payments.make_refund(payment, amount=500, actor=ACTOR, principal="staff:2",
                                  idempotency_key="r-1")  # fmt: skip
    assert theirs[1] and theirs[0] != first
    assert _refunds(payment) == [("approved", 500), ("approved", 500)]
    gateway_refunds = SandboxCharge.objects.filter(operation="refund").count()
    assert gateway_refunds == (2 if how == "card" else 0)


def test_a_charge_key_is_not_a_refund_key(make_client):
    """The key a charge was made with, sent with a refund of that payment, is refused."""
    client = make_client()
    payment = _paid(client, "card")
    with pytest.raises(ValidationFailed) as refused:
        payments.refund(payment, amount=500, actor=ACTOR, principal=ACTOR, idempotency_key="c")
    assert "was used for another request" in failure_fields(refused)["idempotency_key"]
    assert _refunds(payment) == []
