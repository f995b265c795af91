"""A payment or credit recorded by hand is recorded once per key, as a charge or refund is:
the same request sent again answers the first transaction, the key sent with another
request is refused and records nothing, and each principal has its own keys. The staff
page's Record payment form carries a key, so the form sent many times at once records
one payment."""

import re
import threading
from datetime import date

import pytest

from groupbill.billing import invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Transaction
from groupbill.errors import ValidationFailed
from tests import processes
from tests.conftest import ACTOR, failure_fields
from tests.web.form_helpers import pay_form

STAFF = "staff:1"


def _record(kind: str, client, **change) -> Transaction:
    if kind == "payment":
        fields = {"amount": 500, "currency": "EUR", "actor": ACTOR, "reference": "SEPA-7",
                  "principal": STAFF, "idempotency_key": "k-1"}  # fmt: skip
        return payments.record_payment(client, **(fields | change))
    fields = {"amount": 500, "currency": "EUR", "actor": ACTOR, "note": "goodwill",
              "principal": STAFF, "idempotency_key": "k-1"}  # fmt: skip
    return payments.add_credit(client, **(fields | change))


def message(page: str) -> str:
    """The message the page shows after a posted action."""
    return re.search(r'role="status">([^<]*)</li>', page)[1]


def _refused(first: Transaction) -> dict[str, str]:
    return {
        "idempotency_key": f"was used for another request (transaction #{first.pk}); "
        "nothing was recorded. Send a new key with a new request."
    }


@pytest.mark.parametrize("kind", ["payment", "credit"])
def test_a_key_records_once_and_refuses_another_request(kind, make_client):
    client, other_client = make_client(), make_client(email="bob@example.com")
    first = _record(kind, client)
    assert (first.kind, first.principal, first.idempotency_key) == (kind, STAFF, "k-1")
    # Texts are compared as they are stored (trimmed), the currency in capitals.
    same = {"note": " goodwill "} if kind == "credit" else {"reference": "SEPA-7 "}
    assert _record(kind, client, currency="eur", **same) == first
    for other in ({"amount": 501}, {"currency": "USD"}, {"note": "another"}):
        with pytest.raises(ValidationFailed) as refused:
            _record(kind, client, **other)
        assert failure_fields(refused) == _refused(first), other
    with pytest.raises(ValidationFailed) as refused:
        _record(kind, other_client)
    assert failure_fields(refused) == _refused(first)
    # Another principal's key is its own.
    theirs = _record(kind, client, principal="staff:2")
    assert theirs != first
    assert list(Transaction.objects.values_list("kind", "principal", "amount")) == [
        (kind, STAFF, 500),
        (kind, "staff:2", 500),
    ]


def test_a_payment_key_is_not_a_credit_key(make_client):
    client = make_client()
    payment = _record("payment", client, reference="")
    with pytest.raises(ValidationFailed) as refused:
        _record("credit", client, note="")
    assert failure_fields(refused) == _refused(payment)
    assert Transaction.objects.count() == 1


def test_without_a_key_each_call_records(make_client):
    """The engine's and the demo's calls send no key: each records its own."""
    client = make_client()
    for kind in ("payment", "payment", "credit", "credit"):
        _record(kind, client, principal="", idempotency_key=None)
    assert Transaction.objects.filter(idempotency_key__isnull=True).count() == 4


def test_a_key_needs_a_principal(make_client):
    client = make_client()
    for kind in ("payment", "credit"):
        with pytest.raises(ValueError, match="belongs to a principal"):
            _record(kind, client, principal="")
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("key", ["", "k" * 129, "a\x00b"])
def test_a_key_that_cannot_be_stored_is_refused(key, make_client):
    with pytest.raises(ValidationFailed) as refused:
        _record("payment", make_client(), idempotency_key=key)
    assert list(failure_fields(refused)) == ["idempotency_key"]


def test_an_invoice_payment_sent_again_answers_the_first_once_the_invoice_is_paid(make_client):
    """The staff page's Record payment sent twice: the second finds the invoice paid by the
    first and is answered with that payment, not refused as paid."""
    client = make_client()
    invoice = invoices.create_invoice(client, [NewLine("Hosting", 1000)], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=date(2026, 3, 2), actor=ACTOR)
    sent = {"amount": 1000, "actor": ACTOR, "reference": "wire", "principal": STAFF,
            "idempotency_key": "form-1"}  # fmt: skip
    first, made = payments.make_invoice_payment(invoice, **sent)
    assert made
    assert payments.make_invoice_payment(invoice, **sent) == (first, False)
    with pytest.raises(ValidationFailed) as refused:
        payments.make_invoice_payment(invoice, **(sent | {"amount": 900}))
    assert failure_fields(refused) == _refused(first)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", 1000)
    assert Transaction.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_payment_form_sent_six_times_at_once_records_once(make_client, django_user_model):
    """The invoice page's Record payment form, as the page gave it (its session, CSRF
    token and key), sent six times at once to a served instance: 6 x 5.00 EUR would fit in
    the 30.00 due, only the form's key keeps it to one payment."""
    client = make_client()
    invoice = invoices.create_invoice(client, [NewLine("Hosting", 3000)], actor=ACTOR)
    invoices.issue_invoice(invoice, issued_on=date(2026, 3, 2), actor=ACTOR)
    django_user_model.objects.create_user(
        "clerk", "clerk@example.com", "correct horse", is_staff=True, is_superuser=True
    )
    answers, start = [], threading.Barrier(6)

    with processes.served() as server:
        browser = server.sign_in("clerk", "correct horse")
        url = f"/invoices/{invoice.pk}/"
        _, page = browser.get(url)
        action, fields = pay_form(page)
        fields |= {"amount": "5.00", "reference": "wire"}
        tabs = [browser.tab() for _ in range(6)]

        def send(tab: processes.Browser) -> None:
            start.wait()
            answers.append(tab.post(action or url, fields))

        threads = [threading.Thread(target=send, args=(tab,)) for tab in tabs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert [status for status, _ in answers] == [200] * 6
    [payment] = Transaction.objects.all()
    said = sorted(message(page) for _, page in answers)
    made = f"Payment #{payment.pk} recorded."
    assert said == [made] + [f"This payment was already recorded. {made}"] * 5, said
    assert (payment.amount, payment.reference, payment.idempotency_key) == (
        500,
        "wire",
        fields["idempotency_key"],
    )
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (500, "open")
