"""The `stripe` gateway: cards saved at Stripe, charged off-session through PaymentIntents.

Configured only by the environment (read in groupbill.settings): the gateway exists while
`GROUPBILL_STRIPE_SECRET_KEY` is set; `..._API_BASE` points it at another server (tests:
localstripe). The secret key lives in the Stripe client object only: it is never stored,
logged, shown in a repr or put into an error message.

A client is a Stripe customer (`GatewayCustomer`); a saved card is a PaymentAccount whose
reference is a PaymentMethod id attached to that customer (`attach_account`, or a SetupIntent
confirmed by Stripe.js: `setup_intent`, `setup_payment_method`).

`charge` creates one confirmed, off-session PaymentIntent per Groupbill key: the key is
Stripe's Idempotency-Key (a retry answers the first PaymentIntent; the key sent with other
parameters is IdempotencyKeyReused) and is kept in the PaymentIntent's metadata
(`groupbill_key`, with `groupbill_invoices` and `groupbill_client`). Its answer:

    succeeded                                        approved
    a card error (declined, expired, authentication  declined (counted by auto debit)
      required off-session, ...)
    processing_error, an invalid request, a refused  error: the money did not move and the
      key, rate limiting                               card holder did nothing wrong
    requires_action (3-D Secure), processing         pending: the webhook or outcome(key)
                                                       books it later
    no answer, a broken connection, a 5xx            GatewayUnreachable: Stripe may have acted

`outcome(key)` finds the PaymentIntent (or Refund) whose metadata holds the key: Stripe's
search first (quick, but its index lags by up to a minute and it is not offered in every
country), then a list, which is exact: "never received" (None) is only answered after a
complete list (the client's customer's PaymentIntents when the attempt names one, else at
most the newest SCAN_LIMIT). A PaymentIntent still waiting for 3-D Secure longer than
AUTHENTICATION_WINDOW is canceled then and answered declined, so an abandoned
authentication does not hold the client's invoices for ever.

`refund` refunds the charge's PaymentIntent under the key, after checking that the currency
is the charge's and the amount is not more than what is left of it (a refund with this key
already made answers that refund).
"""

import calendar
import functools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from groupbill import external
from groupbill.billing.gateways.base import (
    ChargeOutcome,
    GatewayResult,
    GatewayUnreachable,
    IdempotencyKeyReused,
    check_charge,
    check_key,
    check_request,
)
from groupbill.billing.models import (
    GatewayCustomer,
    Transaction,
    TransactionKind,
)
from groupbill.errors import Conflict, ValidationFailed

if TYPE_CHECKING:
    from groupbill.billing.models import PaymentAccount
    from groupbill.clients.models import Client

NAME = "stripe"
KEY_FIELD = "groupbill_key"  # metadata of PaymentIntents and Refunds
INVOICES_FIELD = "groupbill_invoices"
CLIENT_FIELD = "groupbill_client"

TIMEOUT_SECONDS = 30  # per request; the SDK retries a broken connection with the same key
NETWORK_RETRIES = 2
SCAN_LIMIT = 1000  # PaymentIntents or Refunds listed without a customer to narrow them
AUTHENTICATION_WINDOW = timedelta(hours=24)

APPROVED_MESSAGE = "Approved"
ACTION_MESSAGE = "Waiting for the card holder to authenticate the payment (3-D Secure)"
ABANDONED_MESSAGE = (
    "The card holder did not authenticate the payment (3-D Secure) within "
    f"{int(AUTHENTICATION_WINDOW.total_seconds() // 3600)} hours; it was canceled"
)
# Card errors that are not the card's refusal: the issuer could not be reached.
NOT_DECLINED = {"processing_error"}
_PENDING = {
    "requires_action": ACTION_MESSAGE,
    "requires_confirmation": "Waiting for confirmation",
    "requires_capture": "Authorized, waiting for capture",
    "processing": "Processing",
}


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _client_for(secret_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base},
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def _client() -> stripe.StripeClient:
    if not configured():
        raise ValidationFailed.one("gateway", "Stripe is not configured.")
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


# --- Answers -----------------------------------------------------------------------------


def _card_error(reference: str, error: dict[str, Any]) -> GatewayResult:
    """A card's refusal (declined), or an error that is not the card holder's doing."""
    code, decline_code = error.get("code"), error.get("decline_code")
    message = error.get("message") or "Declined by the card issuer"
    if error.get("type") not in (None, "card_error") or code in NOT_DECLINED:
        return GatewayResult(ChargeOutcome.ERROR, reference, message)
    insufficient = "insufficient_funds" in (code, decline_code)
    return GatewayResult(ChargeOutcome.DECLINED, reference, message, insufficient)


def intent_result(intent: dict[str, Any]) -> GatewayResult:
    """What a PaymentIntent's state means for the attempt that made it."""
    reference, status = intent["id"], intent.get("status")
    if status == "succeeded":
        return GatewayResult(ChargeOutcome.APPROVED, reference, APPROVED_MESSAGE)
    if status in _PENDING:
        action = status == "requires_action"
        return GatewayResult(ChargeOutcome.PENDING, reference, _PENDING[status],
                             action_required=action)  # fmt: skip
    error = intent.get("last_payment_error") or {}
    if error:
        return _card_error(reference, error)
    if status == "canceled":
        reason = intent.get("cancellation_reason") or "no reason given"
        return GatewayResult(ChargeOutcome.DECLINED, reference, f"Canceled ({reason})")
    return GatewayResult(ChargeOutcome.ERROR, reference, f"Not taken (status {status})")


def refund_result(refund: dict[str, Any]) -> GatewayResult:
    reference, status = refund["id"], refund.get("status")
    if status == "succeeded":
        return GatewayResult(ChargeOutcome.APPROVED, reference, APPROVED_MESSAGE)
    if status in ("pending", "requires_action"):
        return GatewayResult(ChargeOutcome.PENDING, reference, f"Refund {status}")
    reason = refund.get("failure_reason") or status
    return GatewayResult(ChargeOutcome.DECLINED, reference, f"Refund {status} ({reason})")


def _refusal(exc: stripe.StripeError, key: str) -> GatewayResult:
    """Stripe's definite "no" to a request it did not carry out; raises when it may have
    acted (the outcome is unknown) or the key was reused."""
    if isinstance(exc, stripe.IdempotencyError):
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} was sent to Stripe before with other parameters"
        ) from None
    reference = exc.request_id or ""
    if isinstance(exc, stripe.AuthenticationError):
        message = "Stripe refused the secret key (check GROUPBILL_STRIPE_SECRET_KEY)"
    elif isinstance(exc, stripe.PermissionError):
        message = "The Stripe secret key may not do this"
    elif isinstance(exc, stripe.RateLimitError):
        message = "Stripe is limiting requests; try again later"
    elif isinstance(exc, stripe.InvalidRequestError | stripe.CardError):
        message = exc.user_message or "Stripe refused the request"
    else:  # a broken connection, a timeout, a server error, or anything unforeseen
        raise GatewayUnreachable(f"Stripe did not answer ({type(exc).__name__}).") from None
    return GatewayResult(ChargeOutcome.ERROR, reference, message)


def _dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)


def window_seconds() -> float:
    return AUTHENTICATION_WINDOW.total_seconds()


def _refusable(
    intent: dict[str, Any], refunds: list[dict[str, Any]], amount: int, currency: str
) -> str | None:
    """Why a refund of `amount` `currency` of this PaymentIntent cannot be made, or None.
    Stripe refunds in the charge's currency whatever the caller meant, so that is checked
    here; what is left is checked by Stripe too."""
    status = intent.get("status")
    if status != "succeeded":
        return f"The payment was not taken (status {status})"
    charged = str(intent.get("currency") or "").upper()
    if charged != currency:
        return f"The charge was in {charged}"
    taken = intent.get("amount_received") or intent.get("amount") or 0
    refunded = sum(
        r.get("amount") or 0
        for r in refunds
        if r.get("status") in ("succeeded", "pending", "requires_action")
    )
    left = taken - refunded
    if amount > left:
        return f"Only {left} is left to refund"
    return None


def _has_key(obj: dict[str, Any], key: str) -> bool:
    return (obj.get("metadata") or {}).get(KEY_FIELD) == key


def _quoted(value: str) -> str:
    """A value inside single quotes in Stripe's search query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def search_query(key: str) -> str:
    return f"metadata['{KEY_FIELD}']:'{_quoted(key)}'"


def _expires_on(card: dict[str, Any]) -> date | None:
    year, month = card.get("exp_year"), card.get("exp_month")
    if not isinstance(year, int) or not isinstance(month, int) or not 1 <= month <= 12:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class AccountDetails:
    """What the gateway knows of a saved card (the caller does not say it)."""

    kind: str
    last4: str
    expires_on: date | None
    label: str


@dataclass(frozen=True)
class CardSetup:
    """What a card form (Stripe Elements) needs to save a card for the client."""

    setup_intent_id: str
    client_secret: str  # for the client's browser only; never stored
    publishable_key: str
    js_url: str


@dataclass(frozen=True)
class PaymentAction:
    """A PaymentIntent waiting for its card holder (3-D Secure), as the page that lets
    them authenticate it needs it."""

    payment_intent: str
    status: str
    client_secret: str  # for the card holder's browser only; never stored
    publishable_key: str
    js_url: str


@dataclass(frozen=True)
class _Attempt:
    kind: str
    customer: str | None
    payment_intent: str | None  # a refund's charge


def _attempt(key: str) -> _Attempt | None:
    """Groupbill's record of the attempt sent under this key, to narrow the search."""
    txn = (
        Transaction.objects.filter(gateway_key=key)
        .select_related("refund_of")
        .only("kind", "client_id", "refund_of__reference")
        .first()
    )
    if txn is None:
        return None
    customer = (
        GatewayCustomer.objects.filter(client_id=txn.client_id, gateway=NAME)
        .values_list("reference", flat=True)
        .first()
    )
    of = txn.refund_of.reference if txn.refund_of is not None else None
    return _Attempt(txn.kind, customer, of or None)


def customer_of(client_id: int) -> str | None:
    return (
        GatewayCustomer.objects.filter(client_id=client_id, gateway=NAME)
        .values_list("reference", flat=True)
        .first()
    )


class StripeGateway:
    name = NAME
    can_charge = True

    @property
    def available(self) -> bool:
        return configured()

    @property
    def live(self) -> bool:
        return settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))

    def __repr__(self) -> str:
        return "StripeGateway()"

    # --- The Gateway protocol ------------------------------------------------------------

    def charge(
        self,
        account: "PaymentAccount",
        amount: int,
        currency: str,
        idempotency_key: str,
        *,
        invoice_ids: Sequence[int] = (),
    ) -> GatewayResult:
        check_charge(self.name, account, amount, currency, idempotency_key)
        customer = customer_of(account.client_id)
        if customer is None:
            return GatewayResult(
                ChargeOutcome.ERROR, "", "The client has no Stripe customer; add the card again"
            )
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": account.reference,
            "payment_method_types": ["card"],
            "confirm": True,
            "off_session": True,
            "metadata": {
                KEY_FIELD: idempotency_key,
                CLIENT_FIELD: str(account.client_id),
                INVOICES_FIELD: ",".join(str(i) for i in invoice_ids)[:500],
            },
        }
        client = _client()
        try:
            intent = client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            return self._declined(exc, idempotency_key, customer)
        except stripe.StripeError as exc:
            return _refusal(exc, idempotency_key)
        return intent_result(_dict(intent))

    def refund(
        self, reference: str, amount: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        check_request(amount, currency, idempotency_key)
        client = _client()
        try:
            intent = _dict(client.v1.payment_intents.retrieve(reference))
            refunds = [
                _dict(r)
                for r in client.v1.refunds.list(
                    {"payment_intent": reference, "limit": 100}
                ).auto_paging_iter()
            ]
        except stripe.InvalidRequestError as exc:
            message = exc.user_message or "No such payment"
            return GatewayResult(ChargeOutcome.DECLINED, exc.request_id or "", message)
        except stripe.StripeError as exc:
            return _refusal(exc, idempotency_key)
        earlier = next((r for r in refunds if _has_key(r, idempotency_key)), None)
        if earlier is not None:
            return refund_result(earlier)
        declined = _refusable(intent, refunds, amount, currency)
        if declined is not None:
            return GatewayResult(ChargeOutcome.DECLINED, reference, declined)
        try:
            refund = client.v1.refunds.create(
                {
                    "payment_intent": reference,
                    "amount": amount,
                    "metadata": {KEY_FIELD: idempotency_key},
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:  # e.g. refunded meanwhile
            message = exc.user_message or "Stripe refused the refund"
            return GatewayResult(ChargeOutcome.DECLINED, exc.request_id or "", message)
        except stripe.StripeError as exc:
            return _refusal(exc, idempotency_key)
        return refund_result(_dict(refund))

    def outcome(self, idempotency_key: str) -> GatewayResult | None:
        check_key(idempotency_key)
        attempt = _attempt(idempotency_key)
        try:
            if attempt is None or attempt.kind != TransactionKind.REFUND:
                customer = attempt.customer if attempt is not None else None
                intent = self._find_intent(idempotency_key, customer)
                if intent is not None:
                    return self._settled(intent, idempotency_key)
                if attempt is not None:
                    return None
            of = attempt.payment_intent if attempt is not None else None
            refund = self._find_refund(idempotency_key, of)
        except stripe.StripeError as exc:
            raise GatewayUnreachable(
                f"Stripe could not be asked for the outcome ({type(exc).__name__})."
            ) from None
        return None if refund is None else refund_result(refund)

    # --- Cards ---------------------------------------------------------------------------

    def ensure_customer(self, client: "Client") -> str:
        """The client's Stripe customer id, created on first use (outside any transaction:
        it is a call to Stripe)."""
        known = customer_of(client.pk)
        if known is not None:
            return known
        external.ensure_outside_transaction("Creating a Stripe customer")
        params: dict[str, Any] = {
            "name": str(client)[:256],
            "metadata": {CLIENT_FIELD: str(client.pk)},
        }
        email = client.contacts.filter(role="primary").values_list("email", flat=True).first()
        if email:
            params["email"] = email
        # Keyed by the client (and when it was made): two requests at once make one customer.
        key = f"groupbill-customer-{client.pk}-{client.created_at.timestamp():.6f}"
        try:
            customer = _client().v1.customers.create(params, {"idempotency_key": key})
        except stripe.StripeError as exc:
            raise _unavailable(exc) from None
        return _save_customer(client, customer.id)

    def attach_account(self, client: "Client", reference: str) -> AccountDetails:
        """Attach the PaymentMethod `reference` to the client's customer (adopting the
        customer it is attached to already, when the client has none yet) and say what
        card it is. Refuses one of another customer's."""
        external.ensure_outside_transaction("Attaching a card at Stripe")
        client_ = _client()
        try:
            method = _dict(client_.v1.payment_methods.retrieve(reference))
        except stripe.InvalidRequestError as exc:
            raise ValidationFailed.one(
                "reference", f"is not a Stripe PaymentMethod ({exc.user_message})"
            ) from None
        except stripe.StripeError as exc:
            raise _unavailable(exc) from None
        if method.get("type") != "card":
            raise ValidationFailed.one("reference", "must be a card's PaymentMethod")
        owner, mine = method.get("customer"), customer_of(client.pk)
        if isinstance(owner, dict):
            owner = owner.get("id")
        if owner is not None and owner != mine:
            taken = GatewayCustomer.objects.filter(gateway=NAME, reference=owner)
            if mine is not None or taken.exclude(client_id=client.pk).exists():
                raise ValidationFailed.one(
                    "reference", "is attached to another client's Stripe customer"
                )
            _save_customer(client, owner)  # a card saved at Stripe before Groupbill
        elif owner is None:
            customer = self.ensure_customer(client)
            try:
                client_.v1.payment_methods.attach(reference, {"customer": customer})
            except stripe.CardError as exc:
                raise ValidationFailed.one(
                    "reference", f"was declined by the card issuer ({exc.user_message})"
                ) from None
            except stripe.InvalidRequestError as exc:
                raise ValidationFailed.one("reference", exc.user_message or "refused") from None
            except stripe.StripeError as exc:
                raise _unavailable(exc) from None
        card = method.get("card") or {}
        last4 = str(card.get("last4") or "")
        if not (len(last4) == 4 and last4.isdigit()):
            raise ValidationFailed.one("reference", "Stripe gave no last four digits")
        brand = str(card.get("brand") or "card")
        return AccountDetails("card", last4, _expires_on(card), brand.replace("_", " ").title())

    def setup_intent(self, client: "Client") -> CardSetup:
        """A SetupIntent for the client's customer, for a card form to confirm with
        Stripe.js; the card is saved by `setup_payment_method` once it is confirmed."""
        customer = self.ensure_customer(client)
        params = {
            "customer": customer,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {CLIENT_FIELD: str(client.pk)},
        }
        try:
            intent = _client().v1.setup_intents.create(params)
        except stripe.StripeError as exc:
            raise _unavailable(exc) from None
        return CardSetup(
            intent.id, intent.client_secret, settings.STRIPE_PUBLISHABLE_KEY, settings.STRIPE_JS_URL
        )

    def setup_payment_method(self, client: "Client", setup_intent_id: str) -> str:
        """The PaymentMethod a confirmed SetupIntent of this client's customer saved."""
        external.ensure_outside_transaction("Reading a SetupIntent at Stripe")
        try:
            intent = _dict(_client().v1.setup_intents.retrieve(setup_intent_id))
        except stripe.InvalidRequestError:
            raise ValidationFailed.one("setup_intent", "is not a Stripe SetupIntent") from None
        except stripe.StripeError as exc:
            raise _unavailable(exc) from None
        mine = customer_of(client.pk)
        if mine is None or intent.get("customer") != mine:
            raise ValidationFailed.one("setup_intent", "was not made for this client")
        if intent.get("status") != "succeeded":
            raise ValidationFailed.one(
                "setup_intent", f"is not confirmed (status {intent.get('status')})"
            )
        method = intent.get("payment_method")
        if isinstance(method, dict):
            method = method.get("id")
        if not method:
            raise ValidationFailed.one("setup_intent", "has no card")
        return method

    def payment_action(self, client: "Client", payment_intent: str) -> PaymentAction:
        """The PaymentIntent of one of this client's charges, with what Stripe.js needs to
        let the card holder authenticate it (its status says whether that is still to do)."""
        external.ensure_outside_transaction("Reading a PaymentIntent at Stripe")
        try:
            intent = _dict(_client().v1.payment_intents.retrieve(payment_intent))
        except stripe.InvalidRequestError:
            raise ValidationFailed.one("payment", "is not a Stripe payment") from None
        except stripe.StripeError as exc:
            raise _unavailable(exc) from None
        mine, owner = customer_of(client.pk), intent.get("customer")
        if isinstance(owner, dict):
            owner = owner.get("id")
        if mine is None or owner != mine:
            raise ValidationFailed.one("payment", "was not made for this client")
        return PaymentAction(
            intent["id"],
            str(intent.get("status") or ""),
            str(intent.get("client_secret") or ""),
            settings.STRIPE_PUBLISHABLE_KEY,
            settings.STRIPE_JS_URL,
        )

    # --- Finding what a key did ----------------------------------------------------------

    def _declined(self, exc: stripe.CardError, key: str, customer: str) -> GatewayResult:
        """A card error answers the PaymentIntent it left behind (Stripe sends it with the
        error; a server that does not is asked for it)."""
        error = _dict(exc.error) if exc.error is not None else {}
        intent = error.get("payment_intent")
        if not isinstance(intent, dict):
            try:
                intent = self._find_intent(key, customer, search=False)
            except stripe.StripeError:
                intent = None
        if intent is not None:
            return intent_result(intent)
        reference = error.get("charge") or exc.request_id or ""
        return _card_error(reference, {**error, "type": "card_error", "code": exc.code})

    def _find_intent(
        self, key: str, customer: str | None, *, search: bool = True
    ) -> dict[str, Any] | None:
        payment_intents = _client().v1.payment_intents
        if search:
            try:
                page = payment_intents.search({"query": search_query(key), "limit": 10})
            except stripe.InvalidRequestError:
                pass  # search is not offered here: the list below answers
            else:
                found = next((i for i in map(_dict, page.data) if _has_key(i, key)), None)
                if found is not None:
                    return found
        filters = {"customer": customer} if customer else {}
        return _scan(payment_intents, filters, key, "PaymentIntent")

    def _find_refund(self, key: str, payment_intent: str | None) -> dict[str, Any] | None:
        filters = {"payment_intent": payment_intent} if payment_intent else {}
        return _scan(_client().v1.refunds, filters, key, "Refund")

    def _settled(self, intent: dict[str, Any], key: str) -> GatewayResult:
        """The PaymentIntent's answer; one left waiting for 3-D Secure too long is
        canceled first (if it was completed meanwhile, that answer counts)."""
        waited = time.time() - intent.get("created", time.time())
        if intent.get("status") != "requires_action" or waited < window_seconds():
            return intent_result(intent)
        payment_intents = _client().v1.payment_intents
        try:
            payment_intents.cancel(intent["id"], {}, {"idempotency_key": f"{key}:cancel"[:255]})
        except stripe.InvalidRequestError:  # no longer cancelable: completed or failed
            return intent_result(_dict(payment_intents.retrieve(intent["id"])))
        return GatewayResult(ChargeOutcome.DECLINED, intent["id"], ABANDONED_MESSAGE)


def _scan(service: Any, filters: dict[str, str], key: str, what: str) -> dict[str, Any] | None:
    """The object whose metadata holds `key`, from a complete list (narrowed by `filters`
    when the server takes them), or None. Without a filter only the newest SCAN_LIMIT are
    read: not finding the key among them is no proof, so that raises GatewayUnreachable."""
    try:
        page = service.list({"limit": 100, **filters})
    except stripe.InvalidRequestError:
        if not filters:
            raise
        filters = {}  # a server without the filter (localstripe): list them all
        page = service.list({"limit": 100})
    for seen, item in enumerate(_items(page.auto_paging_iter()), start=1):
        if _has_key(item, key):
            return item
        if not filters and seen >= SCAN_LIMIT:
            raise GatewayUnreachable(
                f"No {what} with this key among Stripe's newest {SCAN_LIMIT}; not settled."
            )
    return None


def _items(objects: Iterable[Any]) -> Iterable[dict[str, Any]]:
    return (_dict(o) for o in objects)


def _save_customer(client: "Client", reference: str) -> str:
    """Record the client's customer; when another request recorded one first, that one."""
    try:
        with transaction.atomic():
            row, _ = GatewayCustomer.objects.get_or_create(
                client_id=client.pk, gateway=NAME, defaults={"reference": reference}
            )
    except IntegrityError:
        row = GatewayCustomer.objects.get(client_id=client.pk, gateway=NAME)
    return row.reference


def _unavailable(exc: stripe.StripeError) -> Conflict:
    if isinstance(exc, stripe.AuthenticationError):
        return Conflict("Stripe refused the secret key (check GROUPBILL_STRIPE_SECRET_KEY).")
    return Conflict(f"Stripe could not be reached or refused ({type(exc).__name__}); try again.")
