"""The gateway boundary: what the billing code may ask of a payment gateway.

A gateway is the only code that talks to a payment processor. Billing actions call it with
an idempotency key they have already committed in an attempt row, so the same key is sent
again after a crash and the gateway answers the first outcome instead of charging twice;
`outcome(key)` settles an attempt left pending without sending anything.

To add a gateway: implement `Gateway` in a module of this package and register an instance
in `groupbill.billing.gateways.GATEWAYS`; one that needs configuration (keys) has an
`available` attribute, false while it is not configured (it is then an unknown gateway).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from groupbill.currencies import MINOR_UNITS

if TYPE_CHECKING:
    from groupbill.billing.models import PaymentAccount

MAX_KEY_LENGTH = 128  # Transaction.idempotency_key and SandboxCharge.idempotency_key


class ChargeOutcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    ERROR = "error"  # the gateway could not process it; the money did not move
    # The gateway has it but no final answer yet (the card holder must authenticate it,
    # 3-D Secure; or the method settles later): the attempt stays pending until the
    # gateway's webhook or `outcome(key)` gives the final answer. Never from the sandbox.
    PENDING = "pending"


@dataclass(frozen=True)
class GatewayResult:
    outcome: ChargeOutcome
    reference: str  # the gateway's id of the charge or refund
    message: str
    insufficient_funds: bool = False
    # Pending because the card holder must act (3-D Secure): they are asked to.
    action_required: bool = False

    @property
    def approved(self) -> bool:
        return self.outcome == ChargeOutcome.APPROVED

    @property
    def final(self) -> bool:
        return self.outcome != ChargeOutcome.PENDING


class GatewayUnreachable(Exception):
    """The call timed out or the connection broke: the gateway may or may not have acted,
    so the outcome is unknown until `outcome(key)` is asked. Never a reason to send the
    charge again under a new key."""


class IdempotencyKeyReused(ValueError):
    """A key already sent was sent again with a different operation, account, amount or
    currency: a caller bug, never answered with the first outcome."""


@runtime_checkable
class Gateway(Protocol):
    name: str
    live: bool  # False for gateways that move no real money (sandbox, manual)
    can_charge: bool  # False when there is nothing to call (manual): staff record money

    def charge(
        self,
        account: "PaymentAccount",
        amount: int,
        currency: str,
        idempotency_key: str,
        *,
        invoice_ids: Sequence[int] = (),
    ) -> GatewayResult:
        """Charge once per key; may raise GatewayUnreachable (outcome unknown).
        `invoice_ids` are what the charge pays, for the gateway's own records (a gateway
        that keeps none ignores them)."""
        ...

    def refund(
        self, reference: str, amount: int, currency: str, idempotency_key: str
    ) -> GatewayResult: ...

    def outcome(self, idempotency_key: str) -> GatewayResult | None:
        """The result of a key already sent, or None if the gateway never saw it."""
        ...


def check_request(amount: object, currency: object, idempotency_key: object) -> None:
    """Arguments every gateway call must have; a wrong one is a programming error."""
    if type(amount) is not int or amount <= 0:
        raise ValueError(f"amount must be a positive int of minor units, not {amount!r}")
    if not isinstance(currency, str) or currency not in MINOR_UNITS:
        raise ValueError(f"currency must be an ISO 4217 code, not {currency!r}")
    check_key(idempotency_key)


def check_charge(
    gateway: str, account: "PaymentAccount", amount: object, currency: object, key: object
) -> None:
    """A charge's arguments (`check_request`), and the account is the gateway's own."""
    check_request(amount, currency, key)
    if account.gateway != gateway:
        raise ValueError(
            f"payment account {account.pk} belongs to gateway {account.gateway!r}, not {gateway!r}"
        )


def check_key(idempotency_key: object) -> None:
    if (
        not isinstance(idempotency_key, str)
        or not idempotency_key
        or len(idempotency_key) > MAX_KEY_LENGTH
        or "\x00" in idempotency_key
    ):
        raise ValueError(
            f"idempotency key must be 1 to {MAX_KEY_LENGTH} characters (no NUL), "
            f"not {idempotency_key!r}"
        )
