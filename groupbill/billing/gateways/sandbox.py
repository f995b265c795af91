"""The `test` gateway: deterministic, no network, every operation kept in `SandboxCharge`.

The outcome of a charge is chosen by the end of the payment account's reference:

    ...0002  declined
    ...9995  declined, insufficient funds
    ...0119  error (processing error)
    ...0408  approved, but the answer is lost: the call raises GatewayUnreachable, and
             `outcome` then says approved (a timeout after the gateway acted)
    ...0504  the call raises GatewayUnreachable before anything is stored (a timeout
             before the gateway saw it): `outcome` says None
    ...0505  approved, answered only after GROUPBILL_SANDBOX_SLOW_SECONDS (20 by default):
             a gateway slow to answer (the crash tests kill the caller while it waits)
    else     approved

`tokenize` turns a test card number into such a reference (the portal adds cards with it).

The answer of a charge is stored when the call is made (in its own short transaction, for
the caller makes gateway calls outside its transactions), before any delay or lost answer.

A refund is approved when it names a charge the sandbox approved, in the same currency, and
does not exceed what is left of it; otherwise it is declined.

Each idempotency key is stored once (unique), so the same key never charges twice, even
from two processes at the same moment: a second call returns the first result. If a caller
does call it inside a transaction that then rolls back, the sandbox "never saw" the call,
which is what `outcome` then answers.
"""

import hashlib
import os
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Sum

from groupbill.billing.gateways.base import (
    ChargeOutcome,
    GatewayResult,
    GatewayUnreachable,
    IdempotencyKeyReused,
    check_charge,
    check_key,
    check_request,
)
from groupbill.billing.models import SandboxCharge

if TYPE_CHECKING:
    from groupbill.billing.models import PaymentAccount

CHARGE = "charge"
REFUND = "refund"

APPROVED_MESSAGE = "Approved"
INSUFFICIENT_FUNDS_MESSAGE = "Declined: insufficient funds"

# account reference ending -> (outcome, message, insufficient funds)
ENDINGS: dict[str, tuple[ChargeOutcome, str, bool]] = {
    "0002": (ChargeOutcome.DECLINED, "Declined by the card issuer", False),
    "9995": (ChargeOutcome.DECLINED, INSUFFICIENT_FUNDS_MESSAGE, True),
    "0119": (ChargeOutcome.ERROR, "Processing error, try again later", False),
}


LOST_ANSWER, NEVER_ARRIVED, SLOW_ANSWER = "0408", "0504", "0505"


def slow_seconds() -> float:
    """How long a ...0505 card keeps the caller waiting (GROUPBILL_SANDBOX_SLOW_SECONDS)."""
    return float(os.environ.get("GROUPBILL_SANDBOX_SLOW_SECONDS", "20"))


def charge_outcome(account_reference: str) -> tuple[ChargeOutcome, str, bool]:
    for ending, result in ENDINGS.items():
        if account_reference.endswith(ending):
            return result
    return ChargeOutcome.APPROVED, APPROVED_MESSAGE, False


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def tokenize(number: object) -> tuple[str, str]:
    """Exchange a test card number for (a new token, last four), as a real gateway's hosted
    fields would: the number is never stored. The token ends with the number's last four
    digits, so the endings above choose the outcome of charges to it."""
    digits = "".join(number.split()).replace("-", "") if isinstance(number, str) else ""
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise ValueError("Enter the card number: 12 to 19 digits.")
    if not _luhn_ok(digits):
        raise ValueError("This card number is not valid; check it for typing errors.")
    # Random, so the token tells nothing about the number beyond its last four digits.
    return f"tok_{secrets.token_hex(10)}_{digits[-4:]}", digits[-4:]


def reference_for(idempotency_key: str) -> str:
    return "sbx_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


class SandboxGateway:
    name = "test"
    live = False
    can_charge = True

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

        def decide() -> tuple[ChargeOutcome, str]:
            outcome, message, _ = charge_outcome(account.reference)
            return outcome, message

        ending = account.reference[-4:]
        if ending == NEVER_ARRIVED:
            raise GatewayUnreachable("The test gateway did not answer (timed out).")
        result = self._once(CHARGE, idempotency_key, account.reference, amount, currency, decide)
        if ending == LOST_ANSWER:
            raise GatewayUnreachable("The answer of the test gateway was lost (timed out).")
        if ending == SLOW_ANSWER:
            time.sleep(slow_seconds())
        return result

    def refund(
        self, reference: str, amount: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        check_request(amount, currency, idempotency_key)

        def decide() -> tuple[ChargeOutcome, str]:
            # Locked so that two refunds of one charge cannot both take what is left.
            original = (
                SandboxCharge.objects.select_for_update()
                .filter(operation=CHARGE, reference=reference, outcome=ChargeOutcome.APPROVED)
                .first()
            )
            if original is None:
                return ChargeOutcome.DECLINED, "No approved charge with this reference"
            if original.currency != currency:
                return ChargeOutcome.DECLINED, f"The charge was in {original.currency}"
            refunded = SandboxCharge.objects.filter(
                operation=REFUND, account_reference=reference, outcome=ChargeOutcome.APPROVED
            ).aggregate(total=Sum("amount"))["total"]
            left = original.amount - (refunded or 0)
            if amount > left:
                return ChargeOutcome.DECLINED, f"Only {left} is left to refund"
            return ChargeOutcome.APPROVED, APPROVED_MESSAGE

        # A refund row keeps the charge's reference where a charge keeps the account's.
        return self._once(REFUND, idempotency_key, reference, amount, currency, decide)

    def outcome(self, idempotency_key: str) -> GatewayResult | None:
        check_key(idempotency_key)
        row = _find(idempotency_key)
        return None if row is None else _result(row)

    def _once(self, operation, key, account_reference, amount, currency, decide) -> GatewayResult:
        """The first result for `key`: decided and stored now, or read back when stored
        already (also when another process stores it between our read and our insert)."""
        request = (operation, account_reference, amount, currency)
        row = _find(key)
        if row is None:
            try:
                with transaction.atomic():
                    outcome, message = decide()
                    row = SandboxCharge.objects.create(
                        idempotency_key=key,
                        operation=operation,
                        account_reference=account_reference,
                        amount=amount,
                        currency=currency,
                        outcome=outcome,
                        reference=reference_for(key),
                        message=message,
                    )
                return _result(row)
            except IntegrityError:
                row = _find(key)
                if row is None:  # not our unique key that failed
                    raise
        stored = (row.operation, row.account_reference, row.amount, row.currency)
        if stored != request:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was sent for {_describe(stored)}, "
                f"now for {_describe(request)}"
            )
        return _result(row)


def _find(key: str) -> SandboxCharge | None:
    return SandboxCharge.objects.filter(idempotency_key=key).first()


def _result(row: SandboxCharge) -> GatewayResult:
    outcome = ChargeOutcome(row.outcome)
    insufficient = (
        row.operation == CHARGE
        and outcome == ChargeOutcome.DECLINED
        and row.message == INSUFFICIENT_FUNDS_MESSAGE
    )
    return GatewayResult(outcome, row.reference, row.message, insufficient_funds=insufficient)


def _describe(request: tuple) -> str:
    operation, account_reference, amount, currency = request
    return f"{operation} of {amount} {currency} ({account_reference})"
