"""For packages with nothing to provision: every effect succeeds at once."""

from typing import TYPE_CHECKING

from groupbill.provisioning.base import ModuleResult

if TYPE_CHECKING:
    from groupbill.catalog.models import Package
    from groupbill.services.models import Service

OK = ModuleResult(True)


class NoneModule:
    name = "none"
    live = False
    calls_out = False

    def add(self, service: "Service", key: str) -> ModuleResult:
        return OK

    def renew(self, service: "Service", key: str) -> ModuleResult:
        return OK

    def suspend(self, service: "Service", key: str) -> ModuleResult:
        return OK

    def unsuspend(self, service: "Service", key: str) -> ModuleResult:
        return OK

    def cancel(self, service: "Service", key: str) -> ModuleResult:
        return OK

    def change_package(self, service: "Service", old_package: "Package", key: str) -> ModuleResult:
        return OK
