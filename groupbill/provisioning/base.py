"""The provisioning boundary: what service actions may ask of the system that runs a
service (a control panel, a SaaS tenant API, a webhook receiver).

Every call carries the caller's idempotency key for that effect; a module that talks to the
outside world sends it along so that a retried call is recognised. Modules answer a
`ModuleResult` and never raise for a failure of the remote side: the caller records it
(service history, renewal attempts) and decides what to retry.

To add a module: implement `ProvisioningModule` in a module of this package and register an
instance in `groupbill.provisioning.MODULES`; `Package.module` names it.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from groupbill.catalog.models import Package
    from groupbill.services.models import Service

# The effects a module performs, by the name used in events and scripts.
ACTIONS: tuple[str, ...] = ("add", "renew", "suspend", "unsuspend", "cancel", "change_package")


@dataclass(frozen=True)
class ModuleResult:
    ok: bool
    message: str = ""


@runtime_checkable
class ProvisioningModule(Protocol):
    name: str
    live: bool  # False when nothing outside Groupbill is touched (none, test)
    # False when a call leaves no process and cannot hang (none): it is made and booked in
    # one transaction, without the record-call-book steps external calls need.
    calls_out: bool

    def add(self, service: "Service", key: str) -> ModuleResult: ...

    def renew(self, service: "Service", key: str) -> ModuleResult: ...

    def suspend(self, service: "Service", key: str) -> ModuleResult: ...

    def unsuspend(self, service: "Service", key: str) -> ModuleResult: ...

    def cancel(self, service: "Service", key: str) -> ModuleResult: ...

    def change_package(
        self, service: "Service", old_package: "Package", key: str
    ) -> ModuleResult: ...
