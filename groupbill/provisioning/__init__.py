"""Provisioning modules, by name. `get_module(Package.module)` is the only way service code
reaches one; see `base.ProvisioningModule` for the contract."""

from groupbill.provisioning.base import ACTIONS, ModuleResult, ProvisioningModule
from groupbill.provisioning.none import NoneModule
from groupbill.provisioning.test import ScriptedModule
from groupbill.provisioning.webhook import WebhookModule, verify_signature
from groupbill.registry import Registry

_registry: Registry[ProvisioningModule] = Registry(
    "module", (NoneModule(), ScriptedModule(), WebhookModule())
)
MODULES = _registry.by_name
MODULE_NAMES = _registry.names
get_module = _registry.get
override = _registry.override


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
