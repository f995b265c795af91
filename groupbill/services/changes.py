"""Changes of package, options or term, with proration.

Same term: the price difference for the rest of the current period is prorated (and for
periods already invoiced ahead, charged in full). An upgrade is invoiced and, when
`queue_service_changes_until_paid` holds, waits for that invoice to be paid; a downgrade
credits the difference when `prorate_downgrade_credits` holds. A term change takes effect
at the next renewal: nothing is prorated.

A change of package is a billing fact first: it is recorded with a pending
`change_package` module call in one transaction, and the call is made after that commits.
A module that refuses leaves the change made and says so in the service's history.
"""

from datetime import date

from django.db import transaction

from groupbill import bounds, clock, money
from groupbill.billing import invoices, lock_objects, payments
from groupbill.billing.models import Invoice, InvoiceStatus
from groupbill.catalog.models import Package, PackagePrice
from groupbill.errors import Conflict, ValidationFailed
from groupbill.periods import date_range, period_index
from groupbill.services import locks, module_calls, signals
from groupbill.services import pricing as prices
from groupbill.services.models import (
    ChangeStatus,
    ModuleCall,
    Service,
    ServiceChange,
    ServiceOption,
    ServiceStatus,
)
from groupbill.services.module_calls import Booked
from groupbill.services.shared import (
    MAX_QUANTITY,
    clean_reason,
    options_of,
    priced,
    record_event,
)
from groupbill.settings_catalog.effective import ClientSettings


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
    bounds.check_date(today, "today")
    service = _changeable(service)
    new_pricing, old, new, new_parts = _planned(service, pricing, quantity, options)
    if ServiceChange.objects.filter(service=service, status=ChangeStatus.QUEUED).exists():
        raise Conflict(f"{service} already has a change waiting for payment.")
    settings = ClientSettings.of(service.client_id)
    term_change = (new_pricing.unit, new_pricing.count) != (
        service.pricing.unit,
        service.pricing.count,
    )
    with transaction.atomic():
        lock_objects.client(service.client_id)
        locks.services([service.pk])
        module_calls.ensure_none_pending([service])
        change = ServiceChange(service=service, old=old, new=new, actor=actor)
        if term_change:
            change.status = ChangeStatus.APPLIED
            change.save()
            call = _apply(service, change, rebase=True)
        else:
            call = _prorate(service, change, new_parts, today=today, settings=settings,
                            actor=actor)  # fmt: skip
    module_calls.complete(call)
    return change


def _changeable(service: Service) -> Service:
    """The service, read again with what a change needs; only an active or suspended
    recurring service changes."""
    service = Service.objects.select_related("package", "pricing", "client__company").get(
        pk=service.pk
    )
    if service.status not in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
        raise Conflict(f"{service} is {service.status}; only active services can change.")
    if not service.recurring:
        raise Conflict(f"{service} is a one-time service; it has no term to change.")
    return service


def _planned(
    service: Service,
    pricing: PackagePrice | None,
    quantity: int | None,
    options: prices.OptionChoice | None,
) -> tuple[PackagePrice, dict, dict, list[prices.Part]]:
    """The change asked for (what is not given stays), checked: the new pricing, the old
    and new snapshots, and the new price parts."""
    new_pricing = pricing or service.pricing
    new_quantity = quantity if quantity is not None else service.quantity
    new_options = options if options is not None else options_of(service)
    if not 1 <= new_quantity <= MAX_QUANTITY:
        raise ValidationFailed.one("quantity", f"must be from 1 to {MAX_QUANTITY}")
    if new_pricing.package.company_id != service.client.company_id or not new_pricing.recurring:
        raise ValidationFailed.one("pricing_id", "must be a recurring price of the company")
    if new_pricing.currency != service.pricing.currency:
        raise ValidationFailed.one("pricing_id", f"must be in {service.pricing.currency}")
    old = _snapshot(service.package_id, service.pricing_id, service.quantity, options_of(service))
    new = _snapshot(new_pricing.package_id, new_pricing.pk, new_quantity, new_options)
    if old == new:
        raise ValidationFailed.one("pricing_id", "nothing would change")
    new_parts = prices.parts(
        new_pricing.package, new_pricing, new_quantity, new_options
    )  # validates
    return new_pricing, old, new, new_parts


def _prorate(
    service: Service,
    change: ServiceChange,
    new_parts: list[prices.Part],
    *,
    today: date,
    settings: ClientSettings,
    actor: str,
) -> ModuleCall | None:
    """Same term: invoice or credit the difference for the rest of the current period."""
    call = None
    amount, end = _difference(service, new_parts, today)
    change.status = ChangeStatus.APPLIED
    if amount > 0:
        change.invoice = _invoice_difference(service, amount, today, end, actor)
        if settings.value("queue_service_changes_until_paid"):
            change.status = ChangeStatus.QUEUED
    elif amount < 0 and settings.value("prorate_downgrade_credits"):
        change.credit_amount = -amount
    change.save()
    if change.status == ChangeStatus.APPLIED:
        call = _apply(service, change)
    if change.credit_amount:
        payments.add_credit(
            service.client,
            amount=change.credit_amount,
            currency=service.pricing.currency,
            actor=actor,
            note=f"Prorated downgrade of {service}",
        )
    record_event(service, actor, "change", reason=f"{change.status}: {change.old} -> {change.new}")
    return call


def _difference(service: Service, new_parts: list[prices.Part], today: date) -> tuple[int, date]:
    """The price difference for the rest of the current period (prorated) and for the
    periods already invoiced after it (in full), and the day the current period ends."""
    mode = service.client.company.rounding_mode
    diff = prices.per_period(new_parts) - prices.per_period(priced(service))
    try:
        n = period_index(service.anchor_date, service.pricing.term, today)
        begin, end = service.period(n)
    except (OverflowError, ValueError):  # beyond the calendar
        raise ValidationFailed.one("today", "is out of range for this term") from None
    ahead = max(service.next_period - (n + 1), 0)  # periods already invoiced after this
    amount = money.prorate(diff, (end - today).days, (end - begin).days, mode) + diff * ahead
    return amount, end


def _invoice_difference(
    service: Service, amount: int, today: date, end: date, actor: str
) -> Invoice:
    """The upgrade's invoice, issued and due today."""
    dates = date_range(today, end, service.client.language)
    label = f"Change of {service.package.name}: {dates}"
    invoice = invoices.create_invoice(
        service.client,
        [invoices.NewLine(label, amount, 1, "proration", service.pk, today, end)],
        actor=actor,
        currency=service.pricing.currency,
    )
    invoices.issue_invoice(invoice, issued_on=today, due_on=today, actor=actor)
    return invoice


def _apply(service: Service, change: ServiceChange, rebase: bool = False) -> ModuleCall | None:
    """Make the change in the service's rows; a new package also needs the module told,
    by the call returned (made once the caller's transaction has committed)."""
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
    change.resolved_at = clock.now()
    change.save(update_fields=["resolved_at"])
    if old_package.pk == service.package_id:
        return None
    return module_calls.begin(
        service, "change_package", actor=change.actor, params={"old_package_id": old_package.pk}
    )


def _package_change_refused(service: Service, call: ModuleCall, result) -> None:
    record_event(service, call.actor, "change_package_failed",
                 reason=result.message or "the module gave no reason")  # fmt: skip


@module_calls.booker("change_package", refused=_package_change_refused)
def _package_changed(booked: Booked) -> None:
    pass  # the change was booked with the call; the module has now carried it out


def _lock_change(change: ServiceChange) -> ServiceChange:
    """The one lock order: the client, the service, then the change."""
    service = locks.service(change.service_id)
    change = ServiceChange.objects.select_for_update().get(pk=change.pk)
    change.service = service
    return change


def apply_queued_change(change: ServiceChange, *, actor: str) -> ServiceChange:
    """Apply a change that waited for its invoice, once that invoice is paid."""
    with transaction.atomic():
        change = _lock_change(change)
        if change.status != ChangeStatus.QUEUED:
            raise Conflict("This change is not waiting for payment.")
        if change.invoice.status != InvoiceStatus.PAID:
            raise Conflict(f"{change.invoice} is not paid yet.")
        service = change.service
        module_calls.ensure_none_pending([service])
        change.status = ChangeStatus.APPLIED
        change.save(update_fields=["status"])
        call = _apply(service, change)
        record_event(service, actor, "change", reason="applied after payment")
    module_calls.complete(call)
    return change


def cancel_queued_change(change: ServiceChange, *, actor: str, reason: str) -> ServiceChange:
    """Drop a change still waiting for payment: its invoice is voided (a credit note credits
    it) and what was paid on it goes back to the client as credit."""
    reason = clean_reason(reason)
    with transaction.atomic():
        change = _lock_change(change)
        if change.status != ChangeStatus.QUEUED:
            raise Conflict("This change is not waiting for payment.")
        change.status = ChangeStatus.CANCELED
        change.resolved_at = clock.now()
        change.save(update_fields=["status", "resolved_at"])
        if change.invoice.status != InvoiceStatus.VOID:
            invoices.void_invoice(change.invoice, actor=actor, reason=reason)
        record_event(change.service, actor, "change_canceled", reason=reason)
        signals.change_cancelled.send(ServiceChange, change=change, reason=reason)
    return change
