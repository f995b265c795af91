"""Service use cases: order (with its first invoice), provision, suspend, unsuspend,
cancel (now or at the end of the term, voiding open invoices as the client's group says)
and changes of package, options or term with proration.

Every status change is written to the service's history with who and why. Module calls
carry an idempotency key that stays the same until the effect succeeds, so a retry after a
failure or a crash never doubles it.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction

from groupbill import clock, money
from groupbill import validation as v
from groupbill.billing import invoices, ledger, payments
from groupbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from groupbill.catalog.models import Package, PackagePrice, PricingUnit
from groupbill.clients.models import Client
from groupbill.errors import Conflict, FieldError, ValidationFailed
from groupbill.notices import events
from groupbill.periods import period, period_index, period_start
from groupbill.services import pricing as prices
from groupbill.services.models import (
    BilledPeriod,
    ChangeStatus,
    Service,
    ServiceChange,
    ServiceEvent,
    ServiceOption,
    ServiceStatus,
    SuspendedBy,
)
from groupbill.services.modules import get_module
from groupbill.settings_catalog.resolver import resolve_client

SYNCABLE_UNITS = (PricingUnit.MONTH, PricingUnit.YEAR)


def _settings(client_id: int) -> dict[str, Any]:
    return {k: e.value for k, e in resolve_client(client_id).items()}


def _reason(reason: Any) -> str:
    """Why, as the history keeps it (PostgreSQL cannot store NUL)."""
    try:
        return v.text(reason, max_length=1000)
    except ValueError as exc:
        raise ValidationFailed.one("reason", str(exc)) from None


def _event(service: Service, actor: str, event: str, to_status: str | None = None, reason=""):
    ServiceEvent.objects.create(
        service=service,
        actor=actor,
        event=event,
        from_status=service.status,
        to_status=to_status or service.status,
        reason=reason,
    )


def _key(service: Service, action: str) -> str:
    """Same key for every attempt at the next `action` of this service until one succeeds."""
    done = ServiceEvent.objects.filter(service=service, event=action).count()
    return f"service:{service.pk}:{action}:{done + 1}"


def _call(service: Service, action: str, *args) -> None:
    module = get_module(service.package.module)
    result = getattr(module, action)(service, *args, _key(service, action))
    if not result.ok:
        raise Conflict(
            f"The {service.package.module} module refused to {action} {service}: "
            f"{result.message or 'no reason given'}"
        )


def _options_of(service: Service) -> prices.OptionChoice:
    return {o.option_id: (o.value_id, o.quantity) for o in service.options.all()}


def _priced(service: Service) -> list[prices.Part]:
    return prices.parts(service.package, service.pricing, service.quantity, _options_of(service))


# --- Ordering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Start:
    anchor: date | None
    first: int  # index of the first period billed
    start: date | None
    end: date | None
    fraction: tuple[int, int] | None


def _start(pricing: PackagePrice, parent: Service | None, start_on: date, sync: bool) -> _Start:
    if not pricing.recurring:
        return _Start(None, 0, None, None, None)
    term = pricing.term
    if (
        sync
        and parent is not None
        and parent.recurring
        and parent.anchor_date is not None
        and pricing.unit in SYNCABLE_UNITS
        and (parent.pricing.unit, parent.pricing.count) == (pricing.unit, pricing.count)
    ):
        # Renew with the parent: bill the rest of the parent's current period, prorated.
        n = period_index(parent.anchor_date, term, start_on)
        begin, end = period(parent.anchor_date, term, n)
        used = (end - start_on).days
        return _Start(parent.anchor_date, n, start_on, end, (used, (end - begin).days))
    begin, end = period(start_on, term, 0)
    return _Start(start_on, 0, begin, end, None)


def add_service(
    client: Client,
    *,
    pricing: PackagePrice,
    start_on: date,
    actor: str,
    quantity: int = 1,
    options: prices.OptionChoice | None = None,
    parent: Service | None = None,
) -> Service:
    """Order a service: it starts pending, with an open invoice for its first period (and
    setup fees). A new addon whose month/year term equals its parent's is prorated to renew
    on the parent's renew date when `synchronize_addons` holds."""
    package = pricing.package
    errors: list[FieldError] = []
    if package.company_id != client.company_id or not package.active:
        errors.append(
            FieldError("pricing_id", "is not a price of an active package of the client's company")
        )
    if not 1 <= quantity <= 100_000:
        errors.append(FieldError("quantity", "must be from 1 to 100000"))
    if parent is not None:
        if parent.client_id != client.pk or parent.status == ServiceStatus.CANCELED:
            errors.append(FieldError("parent_id", "must be an active service of the same client"))
        elif not package.addon_of.filter(pk=parent.package_id).exists():
            errors.append(
                FieldError(
                    "parent_id", f'"{package.name}" is not an addon of "{parent.package.name}"'
                )
            )
    if errors:
        raise ValidationFailed(errors)
    priced = prices.parts(package, pricing, quantity, options or {})
    config = _settings(client.pk)
    try:
        start = _start(pricing, parent, start_on, config["synchronize_addons"])
    except (OverflowError, ValueError):  # its first period ends beyond the calendar
        raise ValidationFailed.one("start_on", "is out of range for this term") from None
    with transaction.atomic():
        ledger.lock_client(client.pk)
        service = Service.objects.create(
            client=client,
            package=package,
            pricing=pricing,
            parent=parent,
            quantity=quantity,
            status=ServiceStatus.PENDING,
            anchor_date=start.anchor,
            next_period=start.first + 1,
            renew_date=start.end,
        )
        ServiceOption.objects.bulk_create(
            ServiceOption(service=service, option_id=o, value_id=val, quantity=q)
            for o, (val, q) in (options or {}).items()
        )
        _event(service, actor, "order", ServiceStatus.PENDING)
        lines = prices.period_lines(
            priced,
            service_id=service.pk,
            start=start.start,
            end=start.end,
            language=client.language,
            show_option_dates=config["show_option_date_ranges"],
            fraction=start.fraction,
            mode=client.company.rounding_mode,
        ) + prices.setup_lines(priced, service.pk)
        invoice = invoices.create_invoice(client, lines, actor=actor, currency=pricing.currency)
        invoices.issue_invoice(invoice, issued_on=start_on, due_on=start_on, actor=actor)
        BilledPeriod.objects.create(
            service=service,
            period=start.first,
            invoice=invoice,
            start=start.start or start_on,
            end=start.end or start_on,
        )
    service.first_invoice = invoice
    return service


# --- Lifecycle ---------------------------------------------------------------------------


def provision(service: Service, *, actor: str) -> Service:
    """Provision a pending service through its module and activate it."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        if service.status != ServiceStatus.PENDING:
            raise Conflict(f"{service} is {service.status}, not pending.")
        _call(service, "add")
        _event(service, actor, "add", ServiceStatus.ACTIVE, "provisioned")
        service.status = ServiceStatus.ACTIVE
        service.save(update_fields=["status"])
        # Periods billed before the service existed are covered by provisioning it.
        BilledPeriod.objects.filter(service=service, renewed_at__isnull=True).update(
            renewed_at=clock.now()
        )
    return service


def suspend(service: Service, *, actor: str, reason: str, by: str = SuspendedBy.STAFF) -> Service:
    reason = _reason(reason)
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        if service.status != ServiceStatus.ACTIVE:
            raise Conflict(f"{service} is {service.status}; only active services are suspended.")
        _call(service, "suspend")
        _event(service, actor, "suspend", ServiceStatus.SUSPENDED, reason)
        events.service_suspended(service, reason, service.history.filter(event="suspend").count())
        service.status = ServiceStatus.SUSPENDED
        service.suspension_reason = reason[:255]
        service.suspended_by = by
        service.suspended_at = clock.now()  # an engine run's as_of
        service.save(update_fields=["status", "suspension_reason", "suspended_by", "suspended_at"])
    return service


def unsuspend(service: Service, *, actor: str, reason: str = "") -> Service:
    reason = _reason(reason)
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        if service.status != ServiceStatus.SUSPENDED:
            raise Conflict(f"{service} is {service.status}, not suspended.")
        _call(service, "unsuspend")
        _event(service, actor, "unsuspend", ServiceStatus.ACTIVE, reason)
        events.service_unsuspended(service, service.history.filter(event="unsuspend").count())
        service.status = ServiceStatus.ACTIVE
        service.suspension_reason = ""
        service.suspended_by = ""
        service.suspended_at = None
        service.save(update_fields=["status", "suspension_reason", "suspended_by", "suspended_at"])
    return service


def void_open_invoices(
    client: Client, service_ids: list[int], today: date, actor: str, from_day: date | None = None
) -> None:
    """`void_invoices_on_cancel`: the cancelled services' open invoices at most
    `void_on_cancel_max_days_past_due` days past due are voided; an invoice that also bills
    something else only loses these services' lines. With `from_day`, only lines for
    periods from that day on (a scheduled cancellation: periods the client will not get)."""
    config = _settings(client.pk)
    if not config["void_invoices_on_cancel"]:
        return
    limit = config["void_on_cancel_max_days_past_due"]
    lines = InvoiceLine.objects.filter(service_id__in=service_ids)
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
        if invoice.lines.exclude(pk__in=ours).exists():
            invoices.remove_lines(invoice, ours, actor=actor, reason=reason)
        else:
            invoices.void_invoice(invoice, actor=actor, reason=reason)


def cancel(
    service: Service, *, actor: str, today: date, when: str = "now", reason: str = ""
) -> Service:
    """Cancel now (module call, addons too, open invoices voided per the group's rule) or
    schedule the cancellation for the end of the current term."""
    if when not in ("now", "end_of_term"):
        raise ValidationFailed.one("when", 'must be "now" or "end_of_term"')
    reason = _reason(reason)
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        if service.status == ServiceStatus.CANCELED:
            raise Conflict(f"{service} is already cancelled.")
        if when == "end_of_term":
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
            _event(service, actor, "cancel_scheduled", reason=f"on {service.cancel_at}. {reason}")
            # A period from the end on, invoiced ahead already, will not be given: its
            # invoice goes now, before auto debit or credit could pay it.
            void_open_invoices(service.client, _with_addons(service), today, actor,
                               from_day=service.cancel_at)  # fmt: skip
            return service
        cancelled = []
        for target in [*service.addons.exclude(status=ServiceStatus.CANCELED), service]:
            if target.status != ServiceStatus.PENDING:
                _call(target, "cancel")
            _event(target, actor, "cancel", ServiceStatus.CANCELED, reason)
            target.status = ServiceStatus.CANCELED
            target.canceled_at = clock.now()  # an engine run's as_of
            target.cancel_reason = reason[:255]
            target.save(update_fields=["status", "canceled_at", "cancel_reason"])
            # A change waiting for payment will never happen now: its invoice is voided (what
            # was paid goes back as credit) whatever the void-on-cancel rule says, or the
            # client would be reminded and charged for it.
            for change in ServiceChange.objects.filter(service=target, status=ChangeStatus.QUEUED):
                cancel_queued_change(change, actor=actor, reason=f"{target} cancelled")
            cancelled.append(target.pk)
        void_open_invoices(service.client, cancelled, today, actor)
    return service


def _with_addons(service: Service) -> list[int]:
    addons = service.addons.exclude(status=ServiceStatus.CANCELED).values_list("pk", flat=True)
    return [service.pk, *addons]


def _rebill_from(service_ids: list[int], day: date) -> None:
    """Forget the voided billed periods from `day` on, so the engine invoices them again."""
    for target in Service.objects.select_for_update().filter(pk__in=service_ids):
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
        service = Service.objects.select_for_update().get(pk=service.pk)
        if service.cancel_at is None:
            raise Conflict(f"{service} has no scheduled cancellation.")
        _rebill_from(_with_addons(service), service.cancel_at)
        service.refresh_from_db()
        service.cancel_at = None
        service.cancel_reason = ""
        service.save(update_fields=["cancel_at", "cancel_reason"])
        _event(service, actor, "cancel_unscheduled")
    return service


# --- Changes -----------------------------------------------------------------------------


def _snapshot(package_id: int, pricing_id: int, quantity: int, options: prices.OptionChoice):
    return {
        "package_id": package_id,
        "pricing_id": pricing_id,
        "quantity": quantity,
        "options": {str(k): list(v) for k, v in sorted(options.items())},
    }


def change_service(
    service: Service,
    *,
    actor: str,
    today: date,
    pricing: PackagePrice | None = None,
    quantity: int | None = None,
    options: prices.OptionChoice | None = None,
) -> ServiceChange:
    """Change package (a pricing of another package), term (a pricing of another term),
    quantity or options.

    Same term: the price difference for the rest of the current period is prorated (and
    for periods already invoiced ahead, charged in full). An upgrade is invoiced and, when
    `queue_service_changes_until_paid` holds, waits for that invoice to be paid; a
    downgrade credits the difference when `prorate_downgrade_credits` holds. A term change
    takes effect at the next renewal: nothing is prorated."""
    service = Service.objects.select_related("package", "pricing", "client__company").get(
        pk=service.pk
    )
    if service.status not in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
        raise Conflict(f"{service} is {service.status}; only active services can change.")
    if not service.recurring:
        raise Conflict(f"{service} is a one-time service; it has no term to change.")
    new_pricing = pricing or service.pricing
    new_quantity = quantity if quantity is not None else service.quantity
    new_options = options if options is not None else _options_of(service)
    if not 1 <= new_quantity <= 100_000:
        raise ValidationFailed.one("quantity", "must be from 1 to 100000")
    if new_pricing.package.company_id != service.client.company_id or not new_pricing.recurring:
        raise ValidationFailed.one("pricing_id", "must be a recurring price of the company")
    if new_pricing.currency != service.pricing.currency:
        raise ValidationFailed.one("pricing_id", f"must be in {service.pricing.currency}")
    old = _snapshot(service.package_id, service.pricing_id, service.quantity, _options_of(service))
    new = _snapshot(new_pricing.package_id, new_pricing.pk, new_quantity, new_options)
    if old == new:
        raise ValidationFailed.one("pricing_id", "nothing would change")
    new_parts = prices.parts(
        new_pricing.package, new_pricing, new_quantity, new_options
    )  # validates
    if ServiceChange.objects.filter(service=service, status=ChangeStatus.QUEUED).exists():
        raise Conflict(f"{service} already has a change waiting for payment.")
    config = _settings(service.client_id)
    mode = service.client.company.rounding_mode
    term_change = (new_pricing.unit, new_pricing.count) != (
        service.pricing.unit,
        service.pricing.count,
    )
    with transaction.atomic():
        ledger.lock_client(service.client_id)
        change = ServiceChange(service=service, old=old, new=new, actor=actor)
        if term_change:
            change.status = ChangeStatus.APPLIED
            change.save()
            _apply(service, change, rebase=True)
            return change
        diff = prices.per_period(new_parts) - prices.per_period(_priced(service))
        try:
            n = period_index(service.anchor_date, service.pricing.term, today)
            begin, end = service.period(n)
        except (OverflowError, ValueError):  # beyond the calendar
            raise ValidationFailed.one("today", "is out of range for this term") from None
        ahead = max(service.next_period - (n + 1), 0)  # periods already invoiced after this
        amount = money.prorate(diff, (end - today).days, (end - begin).days, mode) + diff * ahead
        change.status = ChangeStatus.APPLIED
        if amount > 0:
            dates = prices.date_range(today, end, service.client.language)
            label = f"Change of {service.package.name}: {dates}"
            invoice = invoices.create_invoice(
                service.client,
                [invoices.NewLine(label, amount, 1, "proration", service.pk, today, end)],
                actor=actor,
                currency=service.pricing.currency,
            )
            invoices.issue_invoice(invoice, issued_on=today, due_on=today, actor=actor)
            change.invoice = invoice
            if config["queue_service_changes_until_paid"]:
                change.status = ChangeStatus.QUEUED
        elif amount < 0 and config["prorate_downgrade_credits"]:
            change.credit_amount = -amount
        change.save()
        if change.status == ChangeStatus.APPLIED:
            _apply(service, change)
        if change.credit_amount:
            payments.add_credit(
                service.client,
                amount=change.credit_amount,
                currency=service.pricing.currency,
                actor=actor,
                note=f"Prorated downgrade of {service}",
            )
        _event(service, actor, "change", reason=f"{change.status}: {old} -> {new}")
    return change


def _apply(service: Service, change: ServiceChange, rebase: bool = False) -> None:
    new = change.new
    old_package = service.package
    service.quantity = new["quantity"]
    service.package = Package.objects.get(pk=new["package_id"])
    service.pricing = PackagePrice.objects.get(pk=new["pricing_id"])
    if rebase:
        # The new term starts where the invoiced periods end.
        service.anchor_date = service.renew_date
        service.next_period = 0
    service.save(update_fields=["package", "pricing", "quantity", "anchor_date", "next_period"])
    service.options.all().delete()
    ServiceOption.objects.bulk_create(
        ServiceOption(service=service, option_id=int(o), value_id=val, quantity=q)
        for o, (val, q) in new["options"].items()
    )
    if old_package.pk != service.package_id:
        _call(service, "change_package", old_package)
    change.resolved_at = clock.now()
    change.save(update_fields=["resolved_at"])


def apply_queued_change(change: ServiceChange, *, actor: str) -> ServiceChange:
    """Apply a change that waited for its invoice, once that invoice is paid."""
    with transaction.atomic():
        change = ServiceChange.objects.select_for_update().get(pk=change.pk)
        if change.status != ChangeStatus.QUEUED:
            raise Conflict("This change is not waiting for payment.")
        if change.invoice.status != InvoiceStatus.PAID:
            raise Conflict(f"{change.invoice} is not paid yet.")
        service = change.service
        change.status = ChangeStatus.APPLIED
        change.save(update_fields=["status"])
        _apply(service, change)
        _event(service, actor, "change", reason="applied after payment")
    return change


def cancel_queued_change(change: ServiceChange, *, actor: str, reason: str) -> ServiceChange:
    """Drop a change still waiting for payment: what was paid on its invoice goes back to the
    client as credit, and the invoice is voided."""
    reason = _reason(reason)
    with transaction.atomic():
        change = ServiceChange.objects.select_for_update().get(pk=change.pk)
        if change.status != ChangeStatus.QUEUED:
            raise Conflict("This change is not waiting for payment.")
        change.status = ChangeStatus.CANCELED
        change.resolved_at = clock.now()
        change.save(update_fields=["status", "resolved_at"])
        if change.invoice.status != InvoiceStatus.VOID:
            invoices.void_invoice(change.invoice, actor=actor, reason=reason)
        _event(change.service, actor, "change_canceled", reason=reason)
        events.change_cancelled(change, reason)
    return change


# --- Renewals ----------------------------------------------------------------------------


def renew(service: Service, billed: BilledPeriod, *, at, today: date, actor: str) -> bool:
    """Ask the module to renew a paid period. The key names the period, so every attempt
    at it is the same effect. Returns whether it succeeded; failures are counted on the
    service for the attempt spacing and the "renewal failed" flag."""
    with transaction.atomic():
        service = Service.objects.select_for_update().select_related("package").get(pk=service.pk)
        billed = BilledPeriod.objects.select_for_update().get(pk=billed.pk)
        if billed.renewed_at is not None:
            return True
        result = get_module(service.package.module).renew(
            service, f"service:{service.pk}:renew:{billed.period}"
        )
        service.last_renewal_attempt_at = at
        if result.ok:
            billed.renewed_at = at
            billed.save(update_fields=["renewed_at"])
            service.renewal_attempts = 0
            service.last_renewed_on = today
            _event(service, actor, "renew", reason=f"period {billed.start} - {billed.end}")
        else:
            service.renewal_attempts += 1
            _event(
                service,
                actor,
                "renew_failed",
                reason=f"attempt {service.renewal_attempts}: {result.message}",
            )
        service.save(
            update_fields=["renewal_attempts", "last_renewal_attempt_at", "last_renewed_on"]
        )
    return result.ok


def flag_renewal_failed(service: Service, *, actor: str) -> Service:
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        if not service.renewal_failed:
            service.renewal_failed = True
            service.save(update_fields=["renewal_failed"])
            _event(
                service,
                actor,
                "renewal_failed",
                reason=f"after {service.renewal_attempts} failed attempts",
            )
    return service


def clear_renewal_failed(service: Service, *, actor: str) -> Service:
    """Staff: clear the flag and the count; the engine tries again on its next pass."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        service.renewal_failed = False
        service.renewal_attempts = 0
        service.save(update_fields=["renewal_failed", "renewal_attempts"])
        _event(service, actor, "renewal_cleared")
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


# --- Unsuspension when paid --------------------------------------------------------------


def past_due_service_ids(client_id: int, today: date) -> set[int]:
    """Services of the client with a line on an open invoice past its due date (invoices of
    queued service changes do not count)."""
    queued = ServiceChange.objects.filter(status=ChangeStatus.QUEUED, invoice__isnull=False)
    return set(
        Invoice.objects.filter(client_id=client_id, status=InvoiceStatus.OPEN, due_on__lt=today)
        .exclude(pk__in=queued.values("invoice_id"))
        .filter(lines__service__isnull=False)
        .values_list("lines__service_id", flat=True)
    )


def unsuspend_cleared(client_id: int, *, today: date, actor: str) -> list[int]:
    """Unsuspend the client's automatically suspended services that no longer have a
    past-due open invoice. Returns their ids. A service whose module refuses stays
    suspended for the engine's `unsuspend` task to retry: the payment that called this
    must stand (an auto-debit charge is settled in the same transaction)."""
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
