"""Renewing paid periods through the module, with attempts counted for the engine's
spacing and the "renewal failed" flag."""

from datetime import date, datetime

from django.db import transaction

from groupbill.billing.models import InvoiceStatus
from groupbill.errors import Conflict
from groupbill.provisioning import ModuleResult
from groupbill.services import locks, module_calls
from groupbill.services.models import BilledPeriod, ModuleCall, Service
from groupbill.services.module_calls import Booked
from groupbill.services.shared import record_event


def renew(service: Service, billed: BilledPeriod, *, at, today: date, actor: str) -> bool:
    """Ask the module to renew a paid period. The key names the period, so every attempt
    at it is the same effect. Returns whether it succeeded (or was done already);
    failures are counted on the service for the attempt spacing and the flag."""

    def not_renewed_yet(_service: Service) -> bool:
        return BilledPeriod.objects.get(pk=billed.pk).renewed_at is None

    params = {"billed_id": billed.pk, "at": at.isoformat(), "today": today.isoformat()}
    call, result = module_calls.perform(
        service.pk, "renew", actor=actor, check=not_renewed_yet, params=params,
        key=f"service:{service.pk}:renew:{billed.period}",
    )  # fmt: skip
    return call is None or result.ok


def _renewal_failed(service: Service, call: ModuleCall, result: ModuleResult) -> None:
    service.renewal_attempts += 1
    service.last_renewal_attempt_at = datetime.fromisoformat(call.params["at"])
    service.save(update_fields=["renewal_attempts", "last_renewal_attempt_at"])
    record_event(service, call.actor, "renew_failed",
                 reason=f"attempt {service.renewal_attempts}: {result.message}")  # fmt: skip


@module_calls.booker("renew", refused=_renewal_failed)
def _renewed(booked: Booked) -> None:
    for service, call in booked:
        at = datetime.fromisoformat(call.params["at"])
        billed = BilledPeriod.objects.get(pk=call.params["billed_id"])
        billed.renewed_at = at
        billed.save(update_fields=["renewed_at"])
        service.renewal_attempts = 0
        service.last_renewal_attempt_at = at
        service.last_renewed_on = date.fromisoformat(call.params["today"])
        service.save(
            update_fields=["renewal_attempts", "last_renewal_attempt_at", "last_renewed_on"]
        )
        record_event(service, call.actor, "renew", reason=f"period {billed.start} - {billed.end}")


def flag_renewal_failed(service: Service, *, actor: str) -> Service:
    with transaction.atomic():
        service = locks.service(service.pk)
        if not service.renewal_failed:
            service.renewal_failed = True
            service.save(update_fields=["renewal_failed"])
            record_event(service, actor, "renewal_failed",
                         reason=f"after {service.renewal_attempts} failed attempts")  # fmt: skip
    return service


def clear_renewal_failed(service: Service, *, actor: str) -> Service:
    """Staff: clear the flag and the count; the engine tries again on its next pass."""
    with transaction.atomic():
        service = locks.service(service.pk)
        service.renewal_failed = False
        service.renewal_attempts = 0
        service.save(update_fields=["renewal_failed", "renewal_attempts"])
        record_event(service, actor, "renewal_cleared")
    return service


def retry_renewal(service: Service, *, actor: str, at, today: date) -> bool:
    """Staff: clear the flag and try the oldest paid, unrenewed period now."""
    service = clear_renewal_failed(service, actor=actor)
    pending = (
        BilledPeriod.objects.filter(
            service=service,
            renewed_at__isnull=True,
            skipped=False,
            invoice__status=InvoiceStatus.PAID,
        )
        .exclude(period=service.billed_periods.order_by("period").values("period")[:1])
        .order_by("period")
        .first()
    )
    if pending is None:
        raise Conflict(f"{service} has no paid period waiting to be renewed.")
    return renew(service, pending, at=at, today=today, actor=actor)
