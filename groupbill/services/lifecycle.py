"""A service's life: provision, suspend, unsuspend, cancel (now or at the end of the term,
voiding open invoices as the client's group says).

Each status change that the provisioning module must carry out is a module call
(`module_calls`): checked and recorded under the locks, made outside any transaction,
and booked by the booker below when the module has done it. Every change is written to
the service's history with who and why.
"""

from datetime import date

from django.db import transaction

from groupbill import bounds, clock
from groupbill.billing import invoices
from groupbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from groupbill.clients.models import Client
from groupbill.errors import Conflict, ValidationFailed
from groupbill.periods import period_index, period_start
from groupbill.services import locks, module_calls, signals
from groupbill.services.changes import cancel_queued_change
from groupbill.services.models import (
    BilledPeriod,
    ChangeStatus,
    Service,
    ServiceChange,
    ServiceStatus,
    SuspendedBy,
)
from groupbill.services.module_calls import Booked
from groupbill.services.past_due import past_due_service_ids
from groupbill.services.shared import clean_reason, record_event
from groupbill.settings_catalog.effective import ClientSettings


def _status_is(expected: str, refusal: str):
    def check(service: Service) -> None:
        if service.status != expected:
            raise Conflict(refusal.format(service=service, status=service.status))

    return check


def _performed(service: Service, action: str, **kwargs) -> Service:
    call, result = module_calls.perform(service.pk, action, **kwargs)
    if not result.ok:
        raise module_calls.refusal(call, result)
    return Service.objects.get(pk=service.pk)


# --- Provision, suspend, unsuspend --------------------------------------------------------


def provision(service: Service, *, actor: str) -> Service:
    """Provision a pending service through its module and activate it."""
    check = _status_is(ServiceStatus.PENDING, "{service} is {status}, not pending.")
    return _performed(service, "add", actor=actor, check=check)


@module_calls.booker("add")
def _provisioned(booked: Booked) -> None:
    for service, call in booked:
        record_event(service, call.actor, "add", ServiceStatus.ACTIVE, "provisioned")
        service.status = ServiceStatus.ACTIVE
        service.save(update_fields=["status"])
        # Periods billed before the service existed are covered by provisioning it.
        BilledPeriod.objects.filter(service=service, renewed_at__isnull=True).update(
            renewed_at=clock.now()
        )


def suspend(
    service: Service,
    *,
    actor: str,
    reason: str,
    by: str = SuspendedBy.STAFF,
    cause: str | None = None,
) -> Service:
    """`cause` (e.g. "invoice:12") keys the client's message: one per cause. Without one
    (staff), each suspension is its own cause."""
    reason = clean_reason(reason)
    check = _status_is(
        ServiceStatus.ACTIVE, "{service} is {status}; only active services are suspended."
    )
    params = {"reason": reason, "by": by, "cause": cause}
    return _performed(service, "suspend", actor=actor, check=check, params=params)


@module_calls.booker("suspend")
def _suspended(booked: Booked) -> None:
    for service, call in booked:
        reason = call.params["reason"]
        record_event(service, call.actor, "suspend", ServiceStatus.SUSPENDED, reason)
        cause = call.params.get("cause") or service.history.filter(event="suspend").count()
        signals.service_suspended.send(Service, service=service, reason=reason, cause=cause)
        service.status = ServiceStatus.SUSPENDED
        service.suspension_reason = reason[:255]
        service.suspended_by = call.params["by"]
        service.suspended_at = clock.now()  # an engine run's as_of
        service.save(update_fields=["status", "suspension_reason", "suspended_by", "suspended_at"])


def unsuspend(service: Service, *, actor: str, reason: str = "") -> Service:
    reason = clean_reason(reason)
    check = _status_is(ServiceStatus.SUSPENDED, "{service} is {status}, not suspended.")
    return _performed(service, "unsuspend", actor=actor, check=check, params={"reason": reason})


@module_calls.booker("unsuspend")
def _unsuspended(booked: Booked) -> None:
    for service, call in booked:
        record_event(service, call.actor, "unsuspend", ServiceStatus.ACTIVE, call.params["reason"])
        occurrence = service.history.filter(event="unsuspend").count()
        signals.service_unsuspended.send(Service, service=service, occurrence=occurrence)
        service.status = ServiceStatus.ACTIVE
        service.suspension_reason = ""
        service.suspended_by = ""
        service.suspended_at = None
        service.save(update_fields=["status", "suspension_reason", "suspended_by", "suspended_at"])


# --- Cancellation ---------------------------------------------------------------------------


def void_open_invoices(
    client: Client, service_ids: list[int], today: date, actor: str, from_day: date | None = None
) -> None:
    """`void_invoices_on_cancel`: the cancelled services' open invoices at most
    `void_on_cancel_max_days_past_due` days past due are voided; an invoice that also bills
    something else only loses these services' lines. Either way a credit note credits
    them. With `from_day`, only lines for periods from that day on (a scheduled
    cancellation: periods the client will not get)."""
    settings = ClientSettings.of(client.pk)
    if not settings.value("void_invoices_on_cancel"):
        return
    limit = settings.value("void_on_cancel_max_days_past_due")
    lines = InvoiceLine.objects.filter(service_id__in=service_ids, credit_line__isnull=True)
    if from_day is not None:
        lines = lines.filter(period_start__gte=from_day)
    candidates = Invoice.objects.filter(
        client=client, status=InvoiceStatus.OPEN, pk__in=lines.values("invoice_id")
    )
    for invoice in candidates:
        if limit != "any" and (today - invoice.due_on).days > limit:
            continue
        ours = list(lines.filter(invoice=invoice).values_list("pk", flat=True))
        reason = "service cancelled"
        if invoice.lines.filter(credit_line__isnull=True).exclude(pk__in=ours).exists():
            invoices.remove_lines(invoice, ours, actor=actor, reason=reason, today=today)
        else:
            invoices.void_invoice(invoice, actor=actor, reason=reason, today=today)


def _with_addons(service: Service) -> list[int]:
    addons = service.addons.exclude(status=ServiceStatus.CANCELED).values_list("pk", flat=True)
    return [service.pk, *addons]


def _schedule_cancellation(service: Service, *, actor: str, today: date, reason: str):
    with transaction.atomic():
        service = locks.service(service.pk)
        if service.status == ServiceStatus.CANCELED:
            raise Conflict(f"{service} is already cancelled.")
        if service.renew_date is None:
            raise ValidationFailed.one("when", "a one-time service has no end of term")
        # The end of the period the client is in today, even when the next period was
        # invoiced already (that invoice is then voided by the usual rule when the
        # cancellation is carried out on its due date).
        term = service.pricing.term
        current = period_index(service.anchor_date, term, max(today, service.anchor_date))
        service.cancel_at = min(
            service.renew_date, period_start(service.anchor_date, term, current + 1)
        )
        service.cancel_reason = reason[:255]
        service.save(update_fields=["cancel_at", "cancel_reason"])
        record_event(service, actor, "cancel_scheduled", reason=f"on {service.cancel_at}. {reason}")
        # A period from the end on, invoiced ahead already, will not be given: its
        # invoice goes now, before auto debit or credit could pay it.
        void_open_invoices(service.client, _with_addons(service), today, actor,
                           from_day=service.cancel_at)  # fmt: skip
    return service


def cancel(
    service: Service, *, actor: str, today: date, when: str = "now", reason: str = ""
) -> Service:
    """Cancel now (module calls, addons first, open invoices voided per the group's rule)
    or schedule the cancellation for the end of the current term. A module that refuses
    stops the cancellation there: what was cancelled before it stays cancelled."""
    if when not in ("now", "end_of_term"):
        raise ValidationFailed.one("when", 'must be "now" or "end_of_term"')
    bounds.check_date(today, "today")
    reason = clean_reason(reason)
    if when == "end_of_term":
        return _schedule_cancellation(service, actor=actor, today=today, reason=reason)
    with transaction.atomic():
        service = locks.service(service.pk)
        if service.status == ServiceStatus.CANCELED:
            raise Conflict(f"{service} is already cancelled.")
        addons = service.addons.exclude(status=ServiceStatus.CANCELED).values_list("pk", flat=True)
        locked = {s.pk: s for s in locks.services(addons)} | {service.pk: service}
        targets = [locked[pk] for pk in sorted(addons)] + [service]
        module_calls.ensure_none_pending(targets)
        params = {"reason": reason, "today": today.isoformat()}
        calls = [
            module_calls.begin(
                t,
                "cancel",
                actor=actor,
                params=params,
                needs_module=t.status != ServiceStatus.PENDING,
            )
            for t in targets
        ]
    answers, refused = [], None
    for call in calls:
        result = None if refused else module_calls.invoke(call)
        answers.append((call, result))
        if result is not None and not result.ok:
            refused = (call, result)
    module_calls.finish(answers)
    if refused:
        raise module_calls.refusal(*refused)
    return Service.objects.get(pk=service.pk)


@module_calls.booker("cancel")
def _cancelled(booked: Booked) -> None:
    for target, call in booked:
        reason = call.params["reason"]
        record_event(target, call.actor, "cancel", ServiceStatus.CANCELED, reason)
        target.status = ServiceStatus.CANCELED
        target.canceled_at = clock.now()  # an engine run's as_of
        target.cancel_reason = reason[:255]
        target.save(update_fields=["status", "canceled_at", "cancel_reason"])
        # A change waiting for payment will never happen now: its invoice is voided (what
        # was paid goes back as credit) whatever the void-on-cancel rule says, or the
        # client would be reminded and charged for it.
        for change in ServiceChange.objects.filter(service=target, status=ChangeStatus.QUEUED):
            cancel_queued_change(change, actor=call.actor, reason=f"{target} cancelled")
    first_service, first_call = booked[0]
    signals.services_cancelled.send(
        Service, services=[s for s, _ in booked], reason=first_call.params["reason"]
    )
    today = date.fromisoformat(first_call.params["today"])
    void_open_invoices(first_service.client, [s.pk for s, _ in booked], today, first_call.actor)


def _rebill_from(service_ids: list[int], day: date) -> None:
    """Forget the voided billed periods from `day` on, so the engine invoices them again."""
    for target in locks.services(service_ids):
        voided = BilledPeriod.objects.filter(
            service=target, start__gte=day, invoice__status=InvoiceStatus.VOID
        )
        first = voided.order_by("start").first()
        if first is None or target.anchor_date is None:
            continue
        voided.delete()
        target.next_period = period_index(target.anchor_date, target.pricing.term, first.start)
        target.renew_date = first.start
        target.save(update_fields=["next_period", "renew_date"])


def unschedule_cancellation(service: Service, *, actor: str) -> Service:
    """The service goes on: periods from the old end on whose invoices the scheduling
    voided are invoiced again by the engine's next run."""
    with transaction.atomic():
        service = locks.service(service.pk)
        if service.cancel_at is None:
            raise Conflict(f"{service} has no scheduled cancellation.")
        _rebill_from(_with_addons(service), service.cancel_at)
        service.refresh_from_db()
        service.cancel_at = None
        service.cancel_reason = ""
        service.save(update_fields=["cancel_at", "cancel_reason"])
        record_event(service, actor, "cancel_unscheduled")
    return service


# --- Unsuspension when paid -----------------------------------------------------------------


def unsuspend_cleared(client_id: int, *, today: date, actor: str) -> list[int]:
    """Unsuspend the client's automatically suspended services that no longer have a
    past-due open invoice. Returns their ids. Runs after the payment has committed (the
    module calls are made outside its transaction); a service whose module refuses stays
    suspended for the engine's `unsuspend` task to retry."""
    still_due = past_due_service_ids(client_id, today)
    done = []
    for service in Service.objects.filter(
        client_id=client_id, status=ServiceStatus.SUSPENDED, suspended_by=SuspendedBy.AUTOMATIC
    ):
        if service.pk not in still_due:
            try:
                unsuspend(service, actor=actor, reason="no past-due invoice left")
            except Conflict:
                continue
            done.append(service.pk)
    return done
