"""Provisioning-module calls as external effects: recorded, committed, made outside any
transaction, then booked.

1. `begin` (in the action's transaction, the client and the service locked) writes a
   pending ModuleCall with the effect's key and what booking its answer needs. One call is
   in flight per service: a second action waits (409) until the first is settled.
2. `invoke` asks the module, with the call's key as the effect's id, outside any
   transaction: a webhook that takes ten seconds holds no lock meanwhile.
3. `finish` books the answers in a new transaction: the action's booker on success (status
   change, history, notices), its refusal booker (if any) on failure.

A process killed between 1 and 3 leaves the call pending. The engine's `settle_pending`
task makes it again under the same key, which receivers already deduplicate on, and books
it with the same booker: the effect happens once, and Groupbill records it once.

Keys stay the same for every attempt at the next `action` of a service until one succeeds,
so a retry after a refusal or a crash never doubles an effect.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from groupbill import clock, external
from groupbill.billing import lock_objects
from groupbill.catalog.models import Package
from groupbill.errors import Conflict
from groupbill.provisioning import ModuleResult, get_module
from groupbill.services import locks
from groupbill.services.models import CallStatus, ModuleCall, Service, ServiceEvent

NOT_PROVISIONED = "not provisioned: there was nothing for the module to do"
NOT_SENT = "not sent: an earlier call of the same action was refused"

Booked = list[tuple[Service, ModuleCall]]


@dataclass(frozen=True)
class _Booker:
    done: Callable[[Booked], None]
    refused: Callable[[Service, ModuleCall, ModuleResult], None] | None


_BOOKERS: dict[str, _Booker] = {}


def booker(action: str, *, refused: Callable | None = None):
    """Register what a successful `action` changes (called with every (service, call)
    booked in one transaction, the services locked) and, optionally, what a refusal does."""

    def register(done: Callable[[Booked], None]):
        _BOOKERS[action] = _Booker(done, refused)
        return done

    return register


def next_key(service: Service, action: str) -> str:
    # Before calls were recorded, the history's events counted the successes; a key must
    # not start again at 1 for a service that had effects then.
    events = ServiceEvent.objects.filter(service=service, event=action).count()
    done = ModuleCall.objects.filter(service=service, action=action, status=CallStatus.DONE)
    return f"service:{service.pk}:{action}:{max(events, done.count()) + 1}"


def ensure_none_pending(services: list[Service]) -> None:
    pending = ModuleCall.objects.filter(service__in=services, status=CallStatus.PENDING).first()
    if pending is not None:
        raise Conflict(
            f"Service #{pending.service_id} is waiting for the answer to its {pending.action} "
            f"call (#{pending.pk}); try again once it is settled."
        )


def begin(
    service: Service,
    action: str,
    *,
    actor: str,
    params: dict | None = None,
    key: str | None = None,
    needs_module: bool = True,
) -> ModuleCall:
    """Record a call, inside the caller's transaction with the service locked.
    `needs_module=False` books the action without asking the module (a service that was
    never provisioned has nothing to cancel)."""
    ensure_none_pending([service])
    return ModuleCall.objects.create(
        service=service,
        action=action,
        key=key or next_key(service, action),
        params={**(params or {}), "needs_module": needs_module},
        actor=actor,
    )


def invoke(call: ModuleCall) -> ModuleResult:
    if not call.params.get("needs_module", True):
        return ModuleResult(True, NOT_PROVISIONED)
    external.ensure_outside_transaction(f"A {call.action} call to a provisioning module")
    service = Service.objects.select_related("package", "client").get(pk=call.service_id)
    module = get_module(service.package.module)
    if call.action == "change_package":
        old_package = Package.objects.get(pk=call.params["old_package_id"])
        return module.change_package(service, old_package, call.key)
    return getattr(module, call.action)(service, call.key)


def finish(answers: list[tuple[ModuleCall, ModuleResult | None]]) -> None:
    """Book the answers to calls of one client in one transaction; None for a call that
    was not made after all (it is dropped, its key free for the next attempt)."""
    if not answers:
        return
    ids = [call.pk for call, _ in answers]
    with transaction.atomic():
        client_id = Service.objects.filter(pk=answers[0][0].service_id).values_list(
            "client_id", flat=True
        )[0]
        lock_objects.client(client_id)
        services = {s.pk: s for s in locks.services(c.service_id for c, _ in answers)}
        fresh = ModuleCall.objects.in_bulk(ids)
        done: dict[str, Booked] = defaultdict(list)
        for stale, result in answers:
            call = fresh[stale.pk]
            if call.status != CallStatus.PENDING:
                continue  # booked already, by a settler that got there first
            call.status = CallStatus.DONE if result and result.ok else CallStatus.FAILED
            call.message = (result.message if result else NOT_SENT)[:500]
            call.settled_at = clock.now()
            call.save(update_fields=["status", "message", "settled_at"])
            service = services[call.service_id]
            if result is not None and result.ok:
                done[call.action].append((service, call))
            elif result is not None and _BOOKERS[call.action].refused is not None:
                _BOOKERS[call.action].refused(service, call, result)
        for action, booked in done.items():
            _BOOKERS[action].done(booked)


def perform(
    service_id: int,
    action: str,
    *,
    actor: str,
    check: Callable[[Service], bool | None],
    params: dict | None = None,
    key: str | None = None,
) -> tuple[ModuleCall | None, ModuleResult | None]:
    """One call: `check` the locked service (raise to refuse, return False when there is
    nothing to do), record, call, book. Returns (call, answer), or (None, None)."""
    with transaction.atomic():
        service = locks.service(service_id)
        if check(service) is False:
            return None, None
        module = get_module(Package.objects.values_list("module", flat=True).get(
            pk=service.package_id))  # fmt: skip
        if not module.calls_out:
            return _in_process(service, module, action, actor, params or {}, key)
        call = begin(service, action, actor=actor, params=params, key=key)
    result = invoke(call)
    finish([(call, result)])
    return call, result


def _in_process(service, module, action, actor, params, key):
    """A module that calls nothing outside (none): made and booked in the caller's
    transaction; no call is recorded, there is nothing to settle."""
    ensure_none_pending([service])
    call = ModuleCall(service=service, action=action, key=key or "", params=params, actor=actor)
    if action == "change_package":
        old = Package.objects.get(pk=params["old_package_id"])
        result = module.change_package(service, old, call.key)
    else:
        result = getattr(module, action)(service, call.key)
    booker = _BOOKERS[action]
    if result.ok:
        booker.done([(service, call)])
    elif booker.refused is not None:
        booker.refused(service, call, result)
    return call, result


def complete(call: ModuleCall | None) -> ModuleResult | None:
    """Make and book a call recorded in a transaction that has committed since."""
    if call is None:
        return None
    result = invoke(call)
    finish([(call, result)])
    return result


def refusal(call: ModuleCall, result: ModuleResult) -> Conflict:
    service = Service.objects.select_related("package").get(pk=call.service_id)
    return Conflict(
        f"The {service.package.module} module refused to {call.action} {service}: "
        f"{result.message or 'no reason given'}"
    )


def stale_calls(older_than, company_id: int | None = None):
    """Pending calls recorded before `older_than` (their process died, or is very slow)."""
    rows = ModuleCall.objects.filter(status=CallStatus.PENDING, created_at__lt=older_than)
    if company_id is not None:
        rows = rows.filter(Q(service__client__company_id=company_id))
    return rows.order_by("created_at", "pk")


def settle(call: ModuleCall) -> ModuleCall:
    """Make a call left pending again, under its key, and book its answer."""
    complete(call)
    call.refresh_from_db()
    return call
