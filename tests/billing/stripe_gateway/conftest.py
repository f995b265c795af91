"""The Stripe gateway's tests run against localstripe (started once per session on a free
port, see fake.py), through the proxy that adds Idempotency-Key and network faults. Without
localstripe they skip, or fail when GROUPBILL_REQUIRE_ALL=1.

localstripe's test cards: 4242424242424242 approves; 4000000000000341 attaches and then
declines every charge; 4000002500003155 needs 3-D Secure; 4000000000000002 is declined
when it is attached."""

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pytest
import stripe

from groupbill.billing import accounts
from groupbill.billing.models import PaymentAccount
from tests.billing.stripe_gateway import fake
from tests.conftest import ACTOR, skip_or_fail

VISA = "4242424242424242"
DECLINES = "4000000000000341"
AUTHENTICATES = "4000002500003155"
DECLINED_AT_ATTACH = "4000000000000002"
WEBHOOK = "/api/v1/gateways/stripe/webhook"


@pytest.fixture(scope="session")
def localstripe_server():
    server = fake.LocalStripe()
    try:
        server.start()
    except RuntimeError as exc:
        skip_or_fail(f"localstripe cannot be started: {exc}")
    proxy = fake.Proxy(server.port)
    yield server, proxy
    proxy.close()
    server.stop()


@dataclass
class StripeFake:
    server: fake.LocalStripe
    proxy: fake.Proxy
    client: stripe.StripeClient  # straight to localstripe: the test's own set-up and checks

    def payment_method(self, number: str = VISA) -> str:
        card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        return self.client.v1.payment_methods.create({"type": "card", "card": card}).id

    def card(self, client, number: str = VISA, *, autodebit: bool = False) -> PaymentAccount:
        data = {"gateway": "stripe", "reference": self.payment_method(number),
                "is_autodebit": autodebit}  # fmt: skip
        return accounts.add_payment_account(client, data, actor=ACTOR)

    def payment_intents(self) -> list[dict[str, Any]]:
        found = self.client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
        return [pi.to_dict() for pi in found]

    def intent(self, payment_intent: str) -> dict[str, Any]:
        return self.client.v1.payment_intents.retrieve(payment_intent).to_dict()

    def authenticate(self, payment_intent: str, *, success: bool = True) -> None:
        """What the card holder does in Stripe.js's 3-D Secure dialog (localstripe's own
        endpoint for it)."""
        secret = self.intent(payment_intent)["client_secret"]
        self.client.raw_request(
            "post", f"/v1/payment_intents/{payment_intent}/_authenticate",
            client_secret=secret, success="true" if success else "false",
        )  # fmt: skip

    def event(self, kind: str, obj: dict[str, Any], event_id: str | None = None) -> dict:
        return {
            "id": event_id or f"evt_{secrets.token_hex(8)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }

    def signed(self, event: dict, secret: str = fake.WEBHOOK_SECRET) -> tuple[bytes, str]:
        payload = json.dumps(event).encode()
        stamp = int(time.time())
        signature = hmac.new(secret.encode(), b"%d." % stamp + payload, hashlib.sha256)
        return payload, f"t={stamp},v1={signature.hexdigest()}"

    def deliver(self, http, event: dict, secret: str = fake.WEBHOOK_SECRET):
        payload, header = self.signed(event, secret)
        return http.post(WEBHOOK, payload, content_type="application/json",
                         HTTP_STRIPE_SIGNATURE=header)  # fmt: skip


@pytest.fixture
def stripe_fake(localstripe_server, settings, monkeypatch):
    """Stripe configured (as by the GROUPBILL_STRIPE_* variables) against a localstripe
    emptied for this test. The SDK retries a dropped connection at once (it waits half a
    second and more in real life)."""
    server, proxy = localstripe_server
    monkeypatch.setattr(stripe.RequestsClient, "_sleep_time_seconds", lambda self, n: 0)
    server.flush()
    proxy.reset()
    for name, value in fake.environment(proxy.url, server.url).items():
        setattr(settings, name.removeprefix("GROUPBILL_"), value)
    direct = stripe.StripeClient(
        fake.SECRET_KEY, base_addresses={"api": server.url}, max_network_retries=0
    )
    return StripeFake(server, proxy, direct)
