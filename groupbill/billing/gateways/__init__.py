"""Payment gateways, by name. `get_gateway(PaymentAccount.gateway)` is the only way billing
code reaches one; see `base.Gateway` for the contract."""

import contextlib
from contextvars import ContextVar

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


_override: ContextVar = ContextVar("gateway_override", default=None)


@contextlib.contextmanager
def override(factory):
    """Within the block, every get_gateway(name) answers factory(name) (dry runs)."""
    token = _override.set(factory)
    try:
        yield
    finally:
        _override.reset(token)


def get_gateway(name: str) -> Gateway:
    factory = _override.get()
    if factory is not None and isinstance(name, str) and name in GATEWAYS:
        return factory(name)
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
    "override",
]
