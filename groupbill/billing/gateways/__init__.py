"""Payment gateways, by name. `get_gateway(PaymentAccount.gateway)` is the only way billing
code reaches one; see `base.Gateway` for the contract."""

from groupbill.billing.gateways.base import (
    ChargeOutcome,
    Gateway,
    GatewayResult,
    GatewayUnreachable,
    IdempotencyKeyReused,
)
from groupbill.billing.gateways.manual import ManualGateway
from groupbill.billing.gateways.sandbox import SandboxGateway
from groupbill.registry import Registry

_registry: Registry[Gateway] = Registry("gateway", (ManualGateway(), SandboxGateway()))
GATEWAYS = _registry.by_name
GATEWAY_NAMES = _registry.names
get_gateway = _registry.get
override = _registry.override


__all__ = [
    "GATEWAYS",
    "GATEWAY_NAMES",
    "ChargeOutcome",
    "Gateway",
    "GatewayResult",
    "GatewayUnreachable",
    "IdempotencyKeyReused",
    "get_gateway",
    "override",
]
