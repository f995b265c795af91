"""Dry runs: gateways and modules replaced by recorders that report success, so a preview
runs every task for real inside a transaction that is then rolled back, and nothing leaves
the database."""

import contextlib
from dataclasses import dataclass, field

from groupbill import external
from groupbill import provisioning as modules
from groupbill.billing import gateways
from groupbill.billing.gateways import ChargeOutcome, GatewayResult
from groupbill.provisioning import ModuleResult


@dataclass
class Recorder:
    calls: list[tuple] = field(default_factory=list)


class RecordingGateway:
    live = False
    can_charge = True

    def __init__(self, name: str, recorder: Recorder):
        self.name, self._recorder = name, recorder

    def charge(self, account, amount, currency, idempotency_key, *, invoice_ids=()):
        self._recorder.calls.append(("charge", account.pk, amount, currency, idempotency_key))
        return GatewayResult(ChargeOutcome.APPROVED, f"dry_{idempotency_key}"[:64], "dry run")

    def refund(self, reference, amount, currency, idempotency_key):
        self._recorder.calls.append(("refund", reference, amount, currency, idempotency_key))
        return GatewayResult(ChargeOutcome.APPROVED, f"dry_{idempotency_key}"[:64], "dry run")

    def outcome(self, idempotency_key):
        return None


class RecordingModule:
    live = False
    calls_out = True

    def __init__(self, name: str, recorder: Recorder):
        self.name, self._recorder = name, recorder

    def __getattr__(self, action: str):
        def call(service, *args):
            self._recorder.calls.append((action, service.pk, args[-1]))
            return ModuleResult(True, "dry run")

        return call


@contextlib.contextmanager
def recorded() -> Recorder:
    recorder = Recorder()
    with (
        gateways.override(lambda name: RecordingGateway(name, recorder)),
        modules.override(lambda name: RecordingModule(name, recorder)),
        external.simulated(),
    ):
        yield recorder
