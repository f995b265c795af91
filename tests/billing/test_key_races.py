"""One idempotency key sent at the same moment with different requests (each for its own
client, whose lock does not order them): one request takes the key, every other is
refused on `idempotency_key` as when they come one after the other, never a server
error. Real requests to a served instance; the end state is read from the database.
SQLite orders all writers, so there the requests take turns; on PostgreSQL they decide
at once and all but the first to commit find their insert refused on the key. The same
request sent several times at once (a client's retries) is made once and each is answered
with it."""

import re
import threading
from datetime import date

import pytest

from groupbill.api.actions import create_api_key
from groupbill.billing import accounts, charges, invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import ChargeTarget, Invoice, SandboxCharge, Transaction
from tests import processes
from tests.conftest import ACTOR
from tests.web.form_helpers import refund_form

pytestmark = pytest.mark.django_db(transaction=True)

ISSUED = date(2026, 3, 2)
CLIENTS = 6
KEY = "same-key"


def _clients(make_client) -> list:
    return [make_client(email=f"client{n}@example.com") for n in range(CLIENTS)]


def _invoice(client) -> Invoice:
    invoice = invoices.create_invoice(client, [NewLine("Hosting March", 1000)], actor=ACTOR)
    return invoices.issue_invoice(invoice, issued_on=ISSUED, due_on=ISSUED, actor=ACTOR)


def _card(client):
    return accounts.add_payment_account(client, {"kind": "card", "gateway": "test",
                                                 "reference": "tok_visa_4242", "last4": "4242"},
                                        actor=ACTOR)  # fmt: skip


def _payment(client, how: str) -> Transaction:
    """30.00 EUR none of which is applied: recorded by hand, or charged to a card (under
    the test's own key) and taken off its invoice."""
    if how == "manual":
        return payments.record_payment(client, amount=3000, currency="EUR", actor=ACTOR)
    invoice = invoices.create_invoice(client, [NewLine("Hosting", 3000)], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=ISSUED, actor=ACTOR)
    paid = charges.pay_with_account(invoice, _card(client), actor=ACTOR, principal=ACTOR,
                                    key=f"setup-{client.pk}")  # fmt: skip
    payments.unapply(invoice, actor=ACTOR)
    return paid


def _at_once(send, requests: list) -> list:
    """`send` of each request from its own thread, all released at the same moment; the
    answers in the order of the requests."""
    answers, start = [None] * len(requests), threading.Barrier(len(requests))

    def one(n: int) -> None:
        start.wait()
        answers[n] = send(requests[n])

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _one_taker(answers: list, undone: str) -> dict:
    """The one request that took the key (201); every other was refused on the key,
    naming the transaction that holds it."""
    statuses = [status for status, _ in answers]
    assert sorted(statuses) == [201] + [422] * (len(answers) - 1), answers
    [taken] = [doc for status, doc in answers if status == 201]
    refusal = [{"field": "idempotency_key",
                "message": f"was used for another request (transaction #{taken['id']}); "
                           f"{undone}. Send a new key with a new request."}]  # fmt: skip
    assert [doc["errors"] for status, doc in answers if status == 422] == [refusal] * (
        len(answers) - 1
    ), answers
    assert list(Transaction.objects.filter(idempotency_key=KEY).values_list("pk", flat=True)) == [
        taken["id"]
    ]
    return taken


def test_one_key_charging_invoices_of_six_clients_at_once(make_client):
    """Six API charges, each of another client's open 10.00 EUR invoice with its card, with
    the same key: one is charged, five refused; the gateway charged once and the other
    invoices are open and unpaid, with no attempt of theirs left behind."""
    clients = _clients(make_client)
    bills = [(_invoice(client), _card(client)) for client in clients]
    _, api_key = create_api_key("racing", actor=ACTOR)

    sends = [(f"/invoices/{invoice.pk}/payments",
              {"payment_account_id": card.pk, "idempotency_key": KEY})
             for invoice, card in bills]  # fmt: skip

    with processes.served() as server:
        answers = _at_once(lambda send: server.api("POST", *send, api_key), sends)

    taken = _one_taker(answers, "nothing was charged")
    assert (taken["status"], taken["amount"]) == ("approved", 1000)
    assert SandboxCharge.objects.filter(operation="charge").count() == 1
    assert ChargeTarget.objects.count() == 1
    paid = sorted(Invoice.objects.filter(pk__in=[i.pk for i, _ in bills])
                  .values_list("status", "amount_paid"))  # fmt: skip
    assert paid == [("open", 0)] * (CLIENTS - 1) + [("paid", 1000)]
    assert not Transaction.objects.filter(status="pending").exists()


@pytest.mark.parametrize("how", ["manual", "card"])
def test_one_key_refunding_payments_of_six_clients_at_once(how, make_client):
    """Six API refunds of 5.00 EUR, each of another client's payment, with the same key:
    one refund is made (through the gateway for a card), five refused."""
    paid = [_payment(client, how) for client in _clients(make_client)]
    gateway_refunds = SandboxCharge.objects.filter(operation="refund")
    _, api_key = create_api_key("racing", actor=ACTOR)

    sends = [(f"/transactions/{payment.pk}/refund", {"amount": 500, "idempotency_key": KEY})
             for payment in paid]  # fmt: skip

    with processes.served() as server:
        answers = _at_once(lambda send: server.api("POST", *send, api_key), sends)

    taken = _one_taker(answers, "nothing was refunded")
    assert (taken["kind"], taken["status"], taken["amount"]) == ("refund", "approved", 500)
    assert list(Transaction.objects.filter(kind="refund").values_list("pk", flat=True)) == [
        taken["id"]
    ]
    assert gateway_refunds.count() == (1 if how == "card" else 0)


def test_one_key_charging_and_refunding_at_once(make_client):
    """The key is the caller's whatever it is sent with: three charges and three refunds,
    each for another client, at once with one key; one of them takes it."""
    clients = _clients(make_client)
    sends = []
    for client in clients[:3]:
        invoice, card = _invoice(client), _card(client)
        body = {"payment_account_id": card.pk, "idempotency_key": KEY}
        sends.append((f"/invoices/{invoice.pk}/payments", body))
    for client in clients[3:]:
        refund = {"amount": 500, "idempotency_key": KEY}
        sends.append((f"/transactions/{_payment(client, 'card').pk}/refund", refund))
    _, api_key = create_api_key("racing", actor=ACTOR)
    calls = SandboxCharge.objects.count()

    with processes.served() as server:
        answers = _at_once(lambda send: server.api("POST", *send, api_key), sends)

    statuses = [status for status, _ in answers]
    assert sorted(statuses) == [201] + [422] * 5, answers
    for status, doc in answers:
        if status == 422:
            assert [e["field"] for e in doc["errors"]] == ["idempotency_key"], doc
    assert Transaction.objects.filter(idempotency_key=KEY).count() == 1
    assert SandboxCharge.objects.count() == calls + 1


def message(page: str) -> str:
    """The message the page shows after a posted action."""
    return re.search(r'role="status">([^<]*)</li>', page)[1]


def test_one_form_key_sent_with_refunds_of_six_clients_at_once(make_client, django_user_model):
    """The staff Refund form of six clients' payments, all sent at once with the key of the
    first form (a replayed form): one refund is made; each other page says the form was
    sent already and refunds nothing."""
    paid = [_payment(client, "card") for client in _clients(make_client)]
    django_user_model.objects.create_user(
        "clerk", "clerk@example.com", "correct horse", is_staff=True, is_superuser=True
    )

    with processes.served() as server:
        browser = server.sign_in("clerk", "correct horse")
        forms, key = [], None
        for payment in paid:
            _, page = browser.get(f"/clients/{payment.client_id}/")
            action, fields = refund_form(page, payment.pk)
            key = key or fields["idempotency_key"]
            forms.append((browser.tab(), action,
                          fields | {"amount": "5.00", "idempotency_key": key}))  # fmt: skip
        answers = _at_once(lambda form: form[0].post(form[1], form[2]), forms)

    assert [status for status, _ in answers] == [200] * CLIENTS, [p[-3000:] for _, p in answers]
    said = sorted(re.sub(r"\d{4}-\d\d-\d\d", "DAY", message(page)) for _, page in answers)
    refused = ("This form was already sent with another amount or reference, or is incomplete; "
               "nothing was refunded. Reload the page to refund again.")  # fmt: skip
    assert said == ["Refunded 5.00 EUR of the payment of DAY."] + [refused] * (CLIENTS - 1)
    [refund] = Transaction.objects.filter(kind="refund")
    assert refund.idempotency_key == key
    assert SandboxCharge.objects.filter(operation="refund").count() == 1


@pytest.mark.parametrize("kind", ["payment", "credit"])
def test_one_key_recording_the_same_payment_or_credit_six_times_at_once(kind, make_client):
    """A client retrying POST /transactions six times at once (the same 5.00 EUR payment or
    credit, the same key): one is recorded, and all six are answered with it (201, as a
    charge sent again is)."""
    client = make_client()
    body = {"client_id": client.pk, "kind": kind, "amount": 500, "currency": "EUR",
            "note": "retried", "idempotency_key": KEY}  # fmt: skip
    _, api_key = create_api_key("racing", actor=ACTOR)

    with processes.served() as server:
        answers = _at_once(lambda send: server.api("POST", "/transactions", send, api_key),
                           [body] * CLIENTS)  # fmt: skip

    assert [status for status, _ in answers] == [201] * CLIENTS, answers
    [recorded] = Transaction.objects.all()
    assert [doc["id"] for _, doc in answers] == [recorded.pk] * CLIENTS
    assert (recorded.kind, recorded.amount, recorded.idempotency_key) == (kind, 500, KEY)
    assert payments.balances([client.pk])[client.pk][0].credit == 500


def test_one_key_recording_payments_and_credits_for_six_clients_at_once(make_client):
    """One key sent at once with three payments and three credits, each for another
    client: one is recorded, five refused on the key; no client but one has credit."""
    clients = _clients(make_client)
    sends = [{"client_id": client.pk, "kind": "payment" if n < 3 else "credit",
              "amount": 500, "currency": "EUR", "idempotency_key": KEY}
             for n, client in enumerate(clients)]  # fmt: skip
    _, api_key = create_api_key("racing", actor=ACTOR)

    with processes.served() as server:
        answers = _at_once(lambda send: server.api("POST", "/transactions", send, api_key), sends)

    taken = _one_taker(answers, "nothing was recorded")
    assert taken["amount"] == 500
    assert Transaction.objects.count() == 1
    credit = payments.balances([c.pk for c in clients])
    assert sorted(sum(b.credit for b in credit[c.pk]) for c in clients) == [0] * 5 + [500]
