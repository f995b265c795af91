"""The gateway contract (tests/billing/test_gateway_contract.py), run against Stripe: the
same tests, imported, with a harness whose accounts are Stripe cards at localstripe.

What localstripe cannot show, and how it is shown instead:
- A card that fails with `processing_error` (an error, not a decline): localstripe has no
  such card, so the contract's "error" behaviour skips here; tests/billing/stripe_gateway/
  test_answers.py maps Stripe's processing_error to an error from Stripe's documented
  objects.
- Idempotency-Key: localstripe ignores it; the proxy in front of it answers as Stripe
  documents (fake.py), so "once per key" and "a key reused" check that the gateway sends
  its key and maps Stripe's idempotency_error.
- Lost answers and calls that never arrive: the proxy drops them (fake.py).
- Search: localstripe has no /v1/payment_intents/search (404); `outcome` falls back to
  listing, which is what these tests exercise.
- Refund limits: localstripe refunds more than was charged; the gateway checks what is
  left before asking (Stripe would refuse too).
"""

import pytest

from groupbill.billing.gateways import get_gateway
from tests.billing.stripe_gateway.conftest import DECLINES, VISA
from tests.billing.test_gateway_contract import (  # noqa: F401  (collected here for Stripe)
    test_a_charge_is_booked_with_the_gateways_answer,
    test_a_key_sent_again_with_another_request_is_refused,
    test_a_timeout_after_the_gateway_acted_is_answered_by_outcome,
    test_a_timeout_before_the_gateway_saw_it_has_no_outcome,
    test_an_attempt_the_gateway_never_saw_is_void,
    test_charge_approves_once_per_key,
    test_decline_and_error_are_answers_not_exceptions,
    test_lost_answers_stay_pending_until_settled_by_key,
    test_refund_up_to_what_was_charged,
    test_refunds_go_through_the_same_pattern,
)

CARDS = {"approve": VISA, "decline": DECLINES, "lost_answer": VISA, "never_arrived": VISA}


class StripeHarness:
    gateway = "stripe"

    def __init__(self, stripe_fake):
        self.stripe = stripe_fake

    def account(self, client, behaviour: str):
        if behaviour == "error":
            pytest.skip("localstripe has no card that fails with processing_error")
        account = self.stripe.card(client, CARDS[behaviour])
        if behaviour == "lost_answer":
            self.stripe.proxy.lose(account.reference)
        elif behaviour == "never_arrived":
            self.stripe.proxy.never(account.reference)
        return account

    def charges_held(self) -> int:
        return len(self.stripe.payment_intents())


@pytest.fixture
def harness(stripe_fake):
    return StripeHarness(stripe_fake)


@pytest.fixture
def gateway(harness):
    return get_gateway(harness.gateway)
