"""Provisioning modules, by name. `get_module(Package.module)` is the only way service code
reaches one; see `base.ProvisioningModule` for the contract."""

import contextlib
from contextvars import ContextVar

from groupbill.errors import ValidationFailed
from groupbill.services.modules.base import ACTIONS, ModuleResult, ProvisioningModule
from groupbill.services.modules.none import NoneModule
from groupbill.services.modules.test import ScriptedModule
from groupbill.services.modules.webhook import WebhookModule, verify_signature

MODULES: dict[str, ProvisioningModule] = {
    m.name: m for m in (NoneModule(), ScriptedModule(), WebhookModule())
}
MODULE_NAMES: tuple[str, ...] = tuple(MODULES)


_override: ContextVar = ContextVar("module_override", default=None)


@contextlib.contextmanager
def override(factory):
    """Within the block, every get_module(name) answers factory(name) (dry runs)."""
    token = _override.set(factory)
    try:
        yield
    finally:
        _override.reset(token)


def get_module(name: str) -> ProvisioningModule:
    factory = _override.get()
    if factory is not None and isinstance(name, str) and name in MODULES:
        return factory(name)
    module = MODULES.get(name) if isinstance(name, str) else None
    if module is None:
        raise ValidationFailed.one(
            "module", f"Unknown module {name!r}; choose one of: {', '.join(MODULE_NAMES)}."
        )
    return module


__all__ = [
    "ACTIONS",
    "MODULES",
    "MODULE_NAMES",
    "ModuleResult",
    "ProvisioningModule",
    "get_module",
    "override",
    "verify_signature",
]
