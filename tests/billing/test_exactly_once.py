"""Money is taken exactly once, shown with real processes on the database CI gives (SQLite,
then PostgreSQL): parallel requests to a served instance, a server and an engine run
killed with SIGKILL after the gateway approved and before the ledger wrote, and keys
reused for another request. Every test reads the end state from the database."""

import threading
from datetime import date, timedelta

import pytest

from groupbill.api.actions import create_api_key
from groupbill.billing import accounts, invoices
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Invoice, SandboxCharge, Transaction
from groupbill.settings_catalog.actions import set_group_setting
from tests import processes
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db(transaction=True)

ISSUED = date(2026, 3, 2)
APPROVES, ANSWERS_SLOWLY = "tok_visa_4242", "tok_slow_0505"


def _invoice(client, amount=1000):
    invoice = invoices.create_invoice(client, [NewLine("Hosting March", amount)], actor=ACTOR)
    return invoices.issue_invoice(invoice, issued_on=ISSUED, due_on=ISSUED, actor=ACTOR)


def _card(client, reference, autodebit=False):
    return accounts.add_payment_account(client, {
        "kind": "card", "gateway": "test", "reference": reference, "last4": reference[-4:],
        "is_autodebit": autodebit,
    }, actor=ACTOR)  # fmt: skip


def _ledger(invoice: Invoice) -> dict:
    invoice.refresh_from_db()
    payments = Transaction.objects.filter(client_id=invoice.client_id, kind="payment")
    return {
        "gateway_charges": SandboxCharge.objects.filter(operation="charge").count(),
        "approved": payments.filter(status="approved").count(),
        "pending": payments.filter(status="pending").count(),
        "invoice": (invoice.status, invoice.amount_paid),
    }


def test_parallel_payments_of_one_invoice_charge_once(make_client):
    """Eight requests at the same moment, each with its own key, pay one open 10.00 EUR
    invoice with a saved card: one charge is approved, the others are refused (409: paid
    already, or a charge of it is in flight). The gateway charged once."""
    client = make_client()
    invoice, card = _invoice(client), _card(client, APPROVES)
    _, key = create_api_key("parallel", actor=ACTOR)
    answers, start = [], threading.Barrier(8)

    def pay(n: int) -> None:
        start.wait()
        body = {"payment_account_id": card.pk, "idempotency_key": f"pay-{n}"}
        answers.append(server.api("POST", f"/invoices/{invoice.pk}/payments", body, key))

    with processes.served() as server:
        threads = [threading.Thread(target=pay, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 7, answers
    [approved] = [doc for status, doc in answers if status == 201]
    assert (approved["status"], approved["amount"]) == ("approved", 1000)
    refusals = {doc["detail"] for status, doc in answers if status == 409}
    assert all("nothing to pay" in d or "still waiting" in d for d in refusals), refusals
    assert _ledger(invoice) == {
        "gateway_charges": 1, "approved": 1, "pending": 0, "invoice": ("paid", 1000),
    }  # fmt: skip


def test_server_killed_after_the_gateway_approved_charges_once(make_client):
    """The card's gateway approves and is slow to answer; the server is killed (SIGKILL)
    while it waits: the gateway took the money, the ledger knows only a pending attempt.
    The next day's engine run (auto debit on) settles it from the gateway's record of its
    key instead of charging the card again."""
    client = make_client()
    set_group_setting(client.group, "autodebit_days_before_due", 0, actor=ACTOR)
    invoice = _invoice(client)
    card = _card(client, ANSWERS_SLOWLY, autodebit=True)
    _, key = create_api_key("killed", actor=ACTOR)

    with processes.served() as server:
        body = {"payment_account_id": card.pk, "idempotency_key": "pay-1"}
        server.api_in_background("POST", f"/invoices/{invoice.pk}/payments", body, key)
        processes.wait_until(SandboxCharge.objects.exists, what="the gateway to approve")
        processes.kill(server.process)
    assert _ledger(invoice) == {
        "gateway_charges": 1, "approved": 0, "pending": 1, "invoice": ("open", 0),
    }  # fmt: skip

    code, doc, err = processes.run_engine(
        str(ISSUED + timedelta(days=1)), GROUPBILL_EFFECT_GRACE_SECONDS="0"
    )
    assert code == 0, err
    settle = next(t for t in doc["tasks"] if t["name"] == "settle_pending")
    assert (settle["applied"], settle["actions"][0]["status"]) == (1, "approved")
    assert _ledger(invoice) == {
        "gateway_charges": 1, "approved": 1, "pending": 0, "invoice": ("paid", 1000),
    }  # fmt: skip


def test_engine_run_killed_during_auto_debit_settles_the_next_day(make_client):
    """The engine's own auto debit is cut off the same way (the run is killed while the
    gateway answers slowly); the next day's run books the charge and charges nothing."""
    client = make_client()
    set_group_setting(client.group, "autodebit_days_before_due", 0, actor=ACTOR)
    invoice = _invoice(client)
    _card(client, ANSWERS_SLOWLY, autodebit=True)

    run = processes.groupbill("run", "--as-of", str(ISSUED), "--task", "autodebit")
    processes.wait_until(SandboxCharge.objects.exists, what="the gateway to approve")
    processes.kill(run)
    run.stdout.close()
    run.stderr.close()
    assert _ledger(invoice)["pending"] == 1

    code, _, err = processes.run_engine(
        str(ISSUED + timedelta(days=1)), GROUPBILL_EFFECT_GRACE_SECONDS="0"
    )
    assert code == 0, err
    assert _ledger(invoice) == {
        "gateway_charges": 1, "approved": 1, "pending": 0, "invoice": ("paid", 1000),
    }  # fmt: skip


def test_a_key_reused_for_another_request_is_refused_and_charges_nothing(make_client):
    """A key already used for one invoice, sent with another invoice or another amount, is
    a 422 on idempotency_key; nothing is charged. The same request again answers the first
    charge. Another API key's identical key is its own."""
    client, other = make_client(), make_client(email="bob@example.com")
    first, second = _invoice(client), _invoice(client, 2000)
    card, bobs_card = _card(client, APPROVES), _card(other, APPROVES)
    bobs_invoice = _invoice(other)
    _, key = create_api_key("reuse", actor=ACTOR)
    _, other_key = create_api_key("someone else", actor=ACTOR)

    with processes.served() as server:
        pay = {"payment_account_id": card.pk, "idempotency_key": "k-1"}
        status, charged = server.api("POST", f"/invoices/{first.pk}/payments", pay, key)
        assert (status, charged["status"]) == (201, "approved")
        refused = [
            server.api("POST", f"/invoices/{second.pk}/payments", pay, key),
            server.api("POST", f"/invoices/{second.pk}/payments", pay | {"amount": 500}, key),
            server.api("POST", f"/invoices/{first.pk}/payments", pay | {"amount": 500}, key),
        ]
        again = server.api("POST", f"/invoices/{first.pk}/payments", pay, key)
        theirs = server.api(
            "POST", f"/invoices/{bobs_invoice.pk}/payments",
            {"payment_account_id": bobs_card.pk, "idempotency_key": "k-1"}, other_key,
        )  # fmt: skip

    for status, doc in refused:
        assert status == 422, doc
        assert [e["field"] for e in doc["errors"]] == ["idempotency_key"]
        assert "another request" in doc["errors"][0]["message"]
    assert again == (201, charged)
    assert (theirs[0], theirs[1]["status"]) == (201, "approved")
    assert SandboxCharge.objects.filter(operation="charge").count() == 2
    assert _ledger(second) | {"gateway_charges": None} == {
        "gateway_charges": None, "approved": 1, "pending": 0, "invoice": ("open", 0),
    }  # fmt: skip


# --- Module calls -------------------------------------------------------------------------


def test_server_killed_during_a_module_call_completes_the_effect_once(company, make_client):
    """Staff provision a service whose module is a webhook; the receiver takes the event
    and the server is killed (SIGKILL) before it answers. The next engine run makes the
    call again under the same event id (the receiver deduplicates on it) and books it:
    the service is active, with one "provisioned" entry in its history."""
    from groupbill.catalog.models import Package, PackagePrice
    from groupbill.services import actions as services
    from groupbill.services.models import ModuleCall
    from tests.webhook_receiver import Receiver

    receiver = Receiver()
    receiver.hold = True  # the first request waits until the test lets it go
    try:
        package = Package.objects.create(company=company, name="Panel", module="webhook",
                                         webhook_url=f"{receiver.url}/hook",
                                         webhook_secret="whsec_test")  # fmt: skip
        price = PackagePrice.objects.create(package=package, unit="month", count=1,
                                            currency="EUR", price=900)  # fmt: skip
        service = services.add_service(make_client(), pricing=price, start_on=ISSUED, actor=ACTOR)
        _, key = create_api_key("staff tool", actor=ACTOR)

        with processes.served() as server:
            server.api_in_background("POST", f"/services/{service.pk}/provision", {}, key)
            processes.wait_until(lambda: receiver.requests, what="the webhook to be called")
            processes.kill(server.process)
        receiver.hold = False
        receiver.release.set()
        assert ModuleCall.objects.get().status == "pending"

        code, doc, err = processes.run_engine(
            str(ISSUED + timedelta(days=1)), GROUPBILL_EFFECT_GRACE_SECONDS="0"
        )
        assert code == 0, err
        settle = next(t for t in doc["tasks"] if t["name"] == "settle_pending")
        assert [a["status"] for a in settle["actions"]] == ["done"]
    finally:
        receiver.close()

    event_ids = [r["headers"]["Groupbill-Event-Id"] for r in receiver.requests]
    assert event_ids == [f"service:{service.pk}:add:1"] * 2  # the same effect, sent twice
    service.refresh_from_db()
    assert service.status == "active"
    assert list(service.history.filter(event="add").values_list("reason", flat=True)) == [
        "provisioned"
    ]
    call = ModuleCall.objects.get()
    assert (call.status, call.key) == ("done", event_ids[0])
