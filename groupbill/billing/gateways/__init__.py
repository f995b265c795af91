"""Payment gateways, by name. `get_gateway(PaymentAccount.gateway)` is the only way billing
code reaches one; see `base.Gateway` for the contract. `stripe` is known always but is a
gateway only while it is configured (GROUPBILL_STRIPE_SECRET_KEY)."""

from groupbill.billing.gateways.base import (
    ChargeOutcome,
    Gateway,
    GatewayResult,
    GatewayUnreachable,
    IdempotencyKeyReused,
)
from groupbill.billing.gateways.manual import ManualGateway
from groupbill.billing.gateways.sandbox import SandboxGateway
from groupbill.billing.gateways.stripe import StripeGateway
from groupbill.registry import Registry

_registry: Registry[Gateway] = Registry(
    "gateway", (ManualGateway(), SandboxGateway(), StripeGateway())
)
GATEWAYS = _registry.by_name
GATEWAY_NAMES = _registry.names  # usable when the process started
KNOWN_GATEWAY_NAMES = _registry.known  # configured or not
get_gateway = _registry.get
override = _registry.override


__all__ = [
    "GATEWAYS",
    "GATEWAY_NAMES",
    "KNOWN_GATEWAY_NAMES",
    "ChargeOutcome",
    "Gateway",
    "GatewayResult",
    "GatewayUnreachable",
    "IdempotencyKeyReused",
    "get_gateway",
    "override",
]
