"""How the gateway reads Stripe's answers, from objects shaped as Stripe documents them (no
server needed): the cases localstripe cannot produce (processing_error, insufficient funds,
authentication required off-session, a 5xx) are here."""

import pytest
import stripe

from groupbill.billing.gateways import ChargeOutcome, GatewayUnreachable, IdempotencyKeyReused
from groupbill.billing.gateways.stripe import (
    _refusal,
    intent_result,
    refund_result,
    search_query,
)
from groupbill.errors import ValidationFailed


def _failed(error: dict, status: str = "requires_payment_method") -> dict:
    return {"id": "pi_1", "status": status, "last_payment_error": error}


@pytest.mark.parametrize(
    "error, outcome, insufficient",
    [
        ({"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"},
         ChargeOutcome.DECLINED, False),
        ({"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"},
         ChargeOutcome.DECLINED, True),
        ({"type": "card_error", "code": "expired_card"}, ChargeOutcome.DECLINED, False),
        # Off-session, a card that needs 3-D Secure fails so: the card holder's to fix.
        ({"type": "card_error", "code": "authentication_required",
          "decline_code": "authentication_required"}, ChargeOutcome.DECLINED, False),
        ({"type": "card_error", "code": "payment_intent_authentication_failure"},
         ChargeOutcome.DECLINED, False),
        # The issuer could not be reached: not the card holder's doing, not counted.
        ({"type": "card_error", "code": "processing_error"}, ChargeOutcome.ERROR, False),
        ({"type": "invalid_request_error", "code": "payment_method_unexpected_state"},
         ChargeOutcome.ERROR, False),
    ],
)  # fmt: skip
def test_a_failed_payment_intent_is_a_decline_or_an_error(error, outcome, insufficient):
    result = intent_result(_failed({"message": "Stripe's words", **error}))
    assert (result.outcome, result.insufficient_funds) == (outcome, insufficient)
    assert (result.reference, result.message) == ("pi_1", "Stripe's words")


@pytest.mark.parametrize(
    "status, outcome",
    [("succeeded", "approved"), ("requires_action", "pending"), ("processing", "pending"),
     ("requires_capture", "pending"), ("canceled", "declined")],
)  # fmt: skip
def test_payment_intent_states(status, outcome):
    result = intent_result({"id": "pi_2", "status": status})
    assert (result.outcome, result.reference) == (outcome, "pi_2")
    assert result.final == (outcome != "pending")


@pytest.mark.parametrize(
    "status, outcome",
    [("succeeded", "approved"), ("pending", "pending"), ("failed", "declined"),
     ("canceled", "declined")],
)  # fmt: skip
def test_refund_states(status, outcome):
    assert refund_result({"id": "re_1", "status": status}).outcome == outcome


def _error(cls, status: int, **extra):
    kwargs = {"http_status": status, "headers": {"request-id": "req_123"}}
    if cls in (stripe.InvalidRequestError, stripe.CardError):
        return cls("Stripe's words", None, extra.get("code"), **kwargs)
    return cls("Stripe's words", **kwargs)


@pytest.mark.parametrize(
    "exc",
    [_error(stripe.APIConnectionError, 0), _error(stripe.APIError, 500),
     _error(stripe.APIError, 503), _error(stripe.StripeError, 0)],
)  # fmt: skip
def test_no_answer_or_a_server_error_means_the_outcome_is_unknown(exc):
    """Stripe may have charged: the attempt stays pending and outcome(key) settles it."""
    with pytest.raises(GatewayUnreachable):
        _refusal(exc, "gb_key")


@pytest.mark.parametrize(
    "exc",
    [_error(stripe.InvalidRequestError, 400), _error(stripe.AuthenticationError, 401),
     _error(stripe.PermissionError, 403), _error(stripe.RateLimitError, 429)],
)  # fmt: skip
def test_a_refused_request_is_an_error_with_the_request_id(exc):
    result = _refusal(exc, "gb_key")
    assert (result.outcome, result.reference) == (ChargeOutcome.ERROR, "req_123")


def test_a_reused_key_is_the_callers_bug():
    with pytest.raises(IdempotencyKeyReused):
        _refusal(stripe.IdempotencyError("Keys for idempotent requests..."), "gb_key")


def test_search_query_quotes_the_key():
    assert search_query("gb_1") == "metadata['groupbill_key']:'gb_1'"
    assert search_query("it's\\") == "metadata['groupbill_key']:'it\\'s\\\\'"


def test_stripe_is_a_gateway_only_when_its_secret_key_is_set(settings):
    from groupbill.billing.gateways import get_gateway

    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(ValidationFailed, match="Unknown gateway 'stripe'"):
        get_gateway("stripe")
    settings.STRIPE_SECRET_KEY = "sk_test_abc"
    gateway = get_gateway("stripe")
    assert (gateway.name, gateway.live, gateway.can_charge) == ("stripe", False, True)
    settings.STRIPE_SECRET_KEY = "sk_live_abc"
    assert get_gateway("stripe").live is True
    assert "sk_live_abc" not in repr(gateway)
