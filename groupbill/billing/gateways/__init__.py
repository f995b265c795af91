"""Payment gateways, by name. `get_gateway(PaymentAccount.gateway)` is the only way billing
code reaches one; see `base.Gateway` for the contract."""

from groupbill.billing.gateways.base import (
    ChargeOutcome,
    Gateway,
    GatewayResult,
    IdempotencyKeyReused,
)
from groupbill.billing.gateways.manual import ManualGateway
from groupbill.billing.gateways.sandbox import SandboxGateway
from groupbill.errors import ValidationFailed

GATEWAYS: dict[str, Gateway] = {g.name: g for g in (ManualGateway(), SandboxGateway())}
GATEWAY_NAMES: tuple[str, ...] = tuple(GATEWAYS)


def get_gateway(name: str) -> Gateway:
    gateway = GATEWAYS.get(name) if isinstance(name, str) else None
    if gateway is None:
        raise ValidationFailed.one(
            "gateway", f"Unknown gateway {name!r}; choose one of: {', '.join(GATEWAY_NAMES)}."
        )
    return gateway


__all__ = [
    "GATEWAYS",
    "GATEWAY_NAMES",
    "ChargeOutcome",
    "Gateway",
    "GatewayResult",
    "IdempotencyKeyReused",
    "get_gateway",
]
