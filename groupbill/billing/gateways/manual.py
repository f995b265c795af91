"""Payments that staff record by hand (bank transfer, cash, cheque): there is no processor to
call, so charging or refunding through it is refused; staff record the money instead."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from groupbill.billing.gateways.base import GatewayResult
from groupbill.errors import ValidationFailed

if TYPE_CHECKING:
    from groupbill.billing.models import PaymentAccount


class ManualGateway:
    name = "manual"
    live = False
    can_charge = False

    def charge(
        self,
        account: "PaymentAccount",
        amount: int,
        currency: str,
        idempotency_key: str,
        *,
        invoice_ids: Sequence[int] = (),
    ) -> GatewayResult:
        raise ValidationFailed.one(
            "gateway",
            "The manual gateway cannot charge an account: there is nothing to call. "
            "Record the payment once it has been received.",
        )

    def refund(
        self, reference: str, amount: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        raise ValidationFailed.one(
            "gateway",
            "The manual gateway cannot send a refund: there is nothing to call. "
            "Pay the money back by hand, then record the refund.",
        )

    def outcome(self, idempotency_key: str) -> GatewayResult | None:
        return None  # nothing is ever sent
