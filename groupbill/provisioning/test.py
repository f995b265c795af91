"""The `test` module: outcomes scripted per service and action, every call recorded.

    from groupbill.provisioning import test as test_module

    test_module.reset()
    test_module.script(service.pk, "renew", ModuleResult(False, "panel down"), ModuleResult(True))
    ...  # the first renew of that service fails, the second succeeds, later ones succeed
    assert test_module.calls == [("renew", service.pk, "renew:42:3"), ...]

Scripts and calls are process-wide: call `reset()` before (or after) each test that uses
them, since service ids are reused once a test's transaction is rolled back.
"""

import threading
from collections import deque
from typing import TYPE_CHECKING

from groupbill.provisioning.base import ACTIONS, ModuleResult

if TYPE_CHECKING:
    from groupbill.catalog.models import Package
    from groupbill.services.models import Service

DEFAULT = ModuleResult(True)

calls: list[tuple[str, int, str]] = []  # (action, service_id, key), in call order
_scripts: dict[tuple[int, str], deque[ModuleResult]] = {}
_lock = threading.Lock()


def script(service_id: int, action: str, *results: ModuleResult) -> None:
    """Queue the results the next calls of `action` for that service answer, in order;
    once they are used up, calls answer ok again."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    for result in results:
        if not isinstance(result, ModuleResult):
            raise TypeError(f"scripted results are ModuleResults, not {result!r}")
    with _lock:
        _scripts.setdefault((service_id, action), deque()).extend(results)


def reset() -> None:
    """Forget every script and recorded call."""
    with _lock:
        calls.clear()  # in place: `from ... import calls` keeps seeing the same list
        _scripts.clear()


def _call(action: str, service: "Service", key: str) -> ModuleResult:
    with _lock:
        calls.append((action, service.pk, key))
        queue = _scripts.get((service.pk, action))
        return queue.popleft() if queue else DEFAULT


class ScriptedModule:
    __test__ = False  # not a pytest test class

    name = "test"
    live = False
    calls_out = True  # it stands in for an outside system in tests

    def add(self, service: "Service", key: str) -> ModuleResult:
        return _call("add", service, key)

    def renew(self, service: "Service", key: str) -> ModuleResult:
        return _call("renew", service, key)

    def suspend(self, service: "Service", key: str) -> ModuleResult:
        return _call("suspend", service, key)

    def unsuspend(self, service: "Service", key: str) -> ModuleResult:
        return _call("unsuspend", service, key)

    def cancel(self, service: "Service", key: str) -> ModuleResult:
        return _call("cancel", service, key)

    def change_package(self, service: "Service", old_package: "Package", key: str) -> ModuleResult:
        return _call("change_package", service, key)
