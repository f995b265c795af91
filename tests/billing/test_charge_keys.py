"""Idempotency keys belong to their principal and their request: no caller can take the
engine's key (or another caller's), and a key answers only the request it came with."""

from datetime import date

from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import autodebit
from groupbill.billing import accounts, charges, invoices
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import SandboxCharge, Transaction
from groupbill.settings_catalog.actions import set_group_setting
from tests.conftest import ACTOR

DUE = date(2026, 3, 2)


def _open_invoice(client, amount=1000):
    invoice = invoices.create_invoice(client, [NewLine("Hosting", amount)], actor=ACTOR)
    return invoices.issue_invoice(invoice, issued_on=DUE, due_on=DUE, actor=ACTOR)


def _card(client, autodebit=False):
    return accounts.add_payment_account(client, {
        "kind": "card", "gateway": "test", "reference": "tok_4242", "last4": "4242",
        "is_autodebit": autodebit,
    }, actor=ACTOR)  # fmt: skip


def test_an_api_caller_cannot_take_the_engines_key(api, make_client, default_group):
    """A caller who sends the key the engine will use that day pays with it (a charge of
    its own), and the engine still charges the client's other invoice under its key."""
    set_group_setting(default_group, "autodebit_days_before_due", 0, actor=ACTOR)
    client = make_client()
    first, second = _open_invoice(client), _open_invoice(client, 2000)
    card = _card(client, autodebit=True)
    engine_key = f"autodebit:{client.pk}:EUR:{DUE}"
    r = api.post(f"/invoices/{first.pk}/payments",
                 {"payment_account_id": card.pk, "idempotency_key": engine_key})  # fmt: skip
    assert (r.status_code, r.json()["status"]) == (201, "approved")

    [report] = execute(AsOf(day=DUE), companies=[client.company], tasks=[autodebit])
    assert (report.applied, report.failed) == (1, 0)
    second.refresh_from_db()
    assert second.status == "paid"
    same_key = Transaction.objects.filter(idempotency_key=engine_key).order_by("pk")
    (caller, paid_by_caller), engines = same_key.values_list("principal", "amount")
    assert caller.startswith("apikey:") and paid_by_caller == 1000
    assert engines == ("engine", 2000)
    assert SandboxCharge.objects.count() == 2


def test_part_of_the_balance_then_the_rest(api, make_client):
    client = make_client()
    invoice, card = _open_invoice(client), _card(client)
    pay = {"payment_account_id": card.pk}
    r = api.post(f"/invoices/{invoice.pk}/payments", pay | {"idempotency_key": "a", "amount": 1001})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    part = api.post(
        f"/invoices/{invoice.pk}/payments", pay | {"idempotency_key": "a", "amount": 400}
    )
    rest = api.post(f"/invoices/{invoice.pk}/payments", pay | {"idempotency_key": "b"})
    assert [part.json()["amount"], rest.json()["amount"]] == [400, 600]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", 1000)


def test_the_portal_waits_for_a_pending_charge(make_client):
    """A charge whose answer was lost is pending; the client's own Pay of the same invoice
    (another principal, another key) is refused with the pending charge named."""
    client = make_client()
    invoice = _open_invoice(client)
    lost = accounts.add_payment_account(client, {"kind": "card", "gateway": "test",
                                                 "reference": "tok_0408", "last4": "0408"},
                                        actor=ACTOR)  # fmt: skip
    pending = charges.pay_with_account(invoice, lost, actor=ACTOR, principal="staff:1", key="s")
    assert pending.status == "pending"
    from groupbill.portal.actions import pay_with_account

    try:
        pay_with_account(invoice, _card(client), actor="client:ada", principal="portal:1")
    except charges.AttemptPending as refused:
        assert refused.attempt == pending and refused.status == 409
    else:
        raise AssertionError("a second charge of the invoice was started")
    assert SandboxCharge.objects.count() == 1
