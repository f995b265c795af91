"""The contract every payment gateway that can charge must keep, and the attempt/settle
pattern on top of it. Each gateway joins by adding a harness to HARNESSES: the accounts
that make it approve, decline, fail, lose its answer after acting (a timeout after the
charge) or never receive the call (a timeout before it), and how many charges it holds.
The sandbox passes; the next gateway is held to the same tests."""

from dataclasses import dataclass

import pytest

from groupbill.billing import accounts, charges, invoices, payments
from groupbill.billing.gateways import (
    ChargeOutcome,
    GatewayUnreachable,
    IdempotencyKeyReused,
    get_gateway,
)
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import AccountKind, PaymentAccount, SandboxCharge
from tests.conftest import ACTOR


@dataclass(frozen=True)
class Harness:
    gateway: str
    references: dict[str, str]  # behaviour -> the account reference that shows it

    def account(self, client, behaviour: str) -> PaymentAccount:
        reference = self.references[behaviour]
        return PaymentAccount.objects.create(client=client, kind=AccountKind.CARD,
                                             gateway=self.gateway, reference=reference,
                                             last4=reference[-4:])  # fmt: skip

    def charges_held(self) -> int:
        return SandboxCharge.objects.filter(operation="charge").count()


HARNESSES = {
    "test": Harness("test", {
        "approve": "tok_4242424242424242",
        "decline": "tok_4000000000000002",
        "error": "tok_4000000000000119",
        "lost_answer": "tok_4000000000000408",
        "never_arrived": "tok_4000000000000504",
    }),
}  # fmt: skip


@pytest.fixture(params=sorted(HARNESSES))
def harness(request):
    return HARNESSES[request.param]


@pytest.fixture
def gateway(harness):
    return get_gateway(harness.gateway)


def test_charge_approves_once_per_key(harness, gateway, payer):
    account = harness.account(payer, "approve")
    first = gateway.charge(account, 1250, "EUR", "gb_contract_1")
    assert first.outcome == ChargeOutcome.APPROVED and first.approved and first.reference
    assert gateway.charge(account, 1250, "EUR", "gb_contract_1") == first
    assert gateway.outcome("gb_contract_1") == first
    assert harness.charges_held() == 1


def test_decline_and_error_are_answers_not_exceptions(harness, gateway, payer):
    declined = gateway.charge(harness.account(payer, "decline"), 500, "EUR", "gb_decline")
    failed = gateway.charge(harness.account(payer, "error"), 500, "EUR", "gb_error")
    assert (declined.outcome, failed.outcome) == (ChargeOutcome.DECLINED, ChargeOutcome.ERROR)
    assert declined.message and failed.message
    assert gateway.outcome("gb_decline") == declined
    assert gateway.outcome("gb_error") == failed


def test_a_timeout_after_the_gateway_acted_is_answered_by_outcome(harness, gateway, payer):
    account = harness.account(payer, "lost_answer")
    with pytest.raises(GatewayUnreachable):
        gateway.charge(account, 700, "EUR", "gb_lost")
    assert gateway.outcome("gb_lost").approved
    assert harness.charges_held() == 1


def test_a_timeout_before_the_gateway_saw_it_has_no_outcome(harness, gateway, payer):
    with pytest.raises(GatewayUnreachable):
        gateway.charge(harness.account(payer, "never_arrived"), 700, "EUR", "gb_never")
    assert gateway.outcome("gb_never") is None
    assert harness.charges_held() == 0


def test_a_key_sent_again_with_another_request_is_refused(harness, gateway, payer):
    account = harness.account(payer, "approve")
    gateway.charge(account, 500, "EUR", "gb_reused")
    with pytest.raises(IdempotencyKeyReused):
        gateway.charge(account, 501, "EUR", "gb_reused")
    assert harness.charges_held() == 1


def test_refund_up_to_what_was_charged(harness, gateway, payer):
    charged = gateway.charge(harness.account(payer, "approve"), 1000, "EUR", "gb_to_refund")
    part = gateway.refund(charged.reference, 600, "EUR", "gb_refund_1")
    assert part.approved
    assert gateway.refund(charged.reference, 600, "EUR", "gb_refund_2").outcome == "declined"
    assert gateway.refund(charged.reference, 400, "EUR", "gb_refund_3").approved
    assert gateway.outcome("gb_refund_1") == part


# --- The attempt/settle pattern over the gateway ------------------------------------------


def _open_invoice(client, amount=1000):
    invoice = invoices.create_invoice(client, [NewLine("Hosting", amount)], actor=ACTOR)
    from datetime import date

    return invoices.issue_invoice(invoice, issued_on=date(2026, 3, 1), actor=ACTOR)


def _pay(invoice, account, key="k"):
    return charges.pay_with_account(invoice, account, actor=ACTOR, principal="apikey:1", key=key)


@pytest.mark.parametrize(
    "behaviour, status, invoice_status",
    [("approve", "approved", "paid"), ("decline", "declined", "open"),
     ("error", "error", "open")],
)  # fmt: skip
def test_a_charge_is_booked_with_the_gateways_answer(
    harness, payer, behaviour, status, invoice_status
):
    invoice = _open_invoice(payer)
    account = harness.account(payer, behaviour)
    txn = _pay(invoice, account)
    invoice.refresh_from_db()
    account.refresh_from_db()
    assert (txn.status, invoice.status) == (status, invoice_status)
    assert account.failure_count == (1 if behaviour == "decline" else 0)  # errors not counted
    assert txn.settled_at is not None and txn.reference


def test_lost_answers_stay_pending_until_settled_by_key(harness, payer, settings):
    invoice = _open_invoice(payer)
    pending = _pay(invoice, harness.account(payer, "lost_answer"))
    assert pending.status == "pending"
    settings.EFFECT_GRACE_SECONDS = 0
    assert [t.pk for t in charges.stale_attempts()] == [pending.pk]
    settled = charges.settle(pending)
    invoice.refresh_from_db()
    assert (settled.status, invoice.status) == ("approved", "paid")
    assert charges.settle(settled).status == "approved"  # booked once
    assert harness.charges_held() == 1


def test_an_attempt_the_gateway_never_saw_is_void(harness, payer, settings):
    invoice = _open_invoice(payer)
    pending = _pay(invoice, harness.account(payer, "never_arrived"))
    settings.EFFECT_GRACE_SECONDS = 0
    settled = charges.settle(pending)
    assert (settled.status, settled.note) == ("void", charges.NEVER_SENT)
    retry = _pay(invoice, harness.account(payer, "approve"), key="k2")  # free to try again
    assert retry.status == "approved"


def test_refunds_go_through_the_same_pattern(harness, payer):
    invoice = _open_invoice(payer)
    payment = _pay(invoice, harness.account(payer, "approve"))
    payments.unapply(invoice, actor=ACTOR)
    refund = payments.refund(payment, amount=400, actor=ACTOR)
    assert (refund.status, refund.amount, refund.refund_of_id) == ("approved", 400, payment.pk)
    assert refund.gateway_key and refund.settled_at
    assert payments.balances([payer.pk])[payer.pk][0].credit == 600


def test_a_manual_account_is_refused_before_anything_is_recorded(payer):
    manual = accounts.add_payment_account(payer, {"kind": "bank", "gateway": "manual",
                                                   "reference": "bank_1234", "last4": "1234"},
                                          actor=ACTOR)  # fmt: skip
    invoice = _open_invoice(payer)
    with pytest.raises(Exception, match="cannot charge"):
        _pay(invoice, manual)
    assert not payer.transactions.exists()
