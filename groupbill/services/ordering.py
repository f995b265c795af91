"""Ordering a service: it starts pending, with an open invoice for its first period."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from groupbill import bounds
from groupbill.billing import invoices, lock_objects
from groupbill.billing.models import Invoice
from groupbill.catalog.models import PackagePrice, PricingUnit
from groupbill.clients.models import Client
from groupbill.errors import FieldError, ValidationFailed
from groupbill.periods import period, period_index
from groupbill.services import pricing as prices
from groupbill.services import signals
from groupbill.services.models import BilledPeriod, Service, ServiceOption, ServiceStatus
from groupbill.services.shared import MAX_QUANTITY, record_event
from groupbill.settings_catalog.effective import ClientSettings

SYNCABLE_UNITS = (PricingUnit.MONTH, PricingUnit.YEAR)


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
    bounds.check_date(start_on, "start_on")
    _check_order(client, pricing, quantity, parent)
    options = options or {}
    priced = prices.parts(pricing.package, pricing, quantity, options)
    settings = ClientSettings.of(client.pk)
    start = _first_period(pricing, parent, start_on, settings.value("synchronize_addons"))
    with transaction.atomic():
        lock_objects.client(client.pk)
        service = _create_service(client, pricing, parent, quantity, options, start, actor)
        lines = _first_lines(service, priced, start, settings.value("show_option_date_ranges"))
        invoice = _invoice_first_period(service, lines, start, start_on, actor)
        signals.service_created.send(Service, service=service)
    service.first_invoice = invoice
    return service


def _check_order(
    client: Client, pricing: PackagePrice, quantity: int, parent: Service | None
) -> None:
    """An active package of the client's company, a quantity in bounds, and for an addon a
    parent of the same client that the package is an addon of. All errors at once."""
    package = pricing.package
    errors: list[FieldError] = []
    if package.company_id != client.company_id or not package.active:
        errors.append(
            FieldError("pricing_id", "is not a price of an active package of the client's company")
        )
    if not 1 <= quantity <= MAX_QUANTITY:
        errors.append(FieldError("quantity", f"must be from 1 to {MAX_QUANTITY}"))
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


def _first_period(
    pricing: PackagePrice, parent: Service | None, start_on: date, sync: bool
) -> _Start:
    """`_start`, refused as a validation error when the first period ends beyond the
    calendar."""
    try:
        return _start(pricing, parent, start_on, sync)
    except (OverflowError, ValueError):
        raise ValidationFailed.one("start_on", "is out of range for this term") from None


def _create_service(
    client: Client,
    pricing: PackagePrice,
    parent: Service | None,
    quantity: int,
    options: prices.OptionChoice,
    start: _Start,
    actor: str,
) -> Service:
    """The pending service with its options, and the order in its history."""
    service = Service.objects.create(
        client=client,
        package=pricing.package,
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
        for o, (val, q) in options.items()
    )
    record_event(service, actor, "order", ServiceStatus.PENDING)
    return service


def _first_lines(
    service: Service, priced: list[prices.Part], start: _Start, show_option_dates: bool
) -> list[invoices.NewLine]:
    """The first period's lines (a part of a period when it renews with its parent), then
    the setup fees."""
    client = service.client
    return prices.period_lines(
        priced,
        service_id=service.pk,
        start=start.start,
        end=start.end,
        language=client.language,
        show_option_dates=show_option_dates,
        fraction=start.fraction,
        mode=client.company.rounding_mode,
    ) + prices.setup_lines(priced, service.pk)


def _invoice_first_period(
    service: Service, lines: list[invoices.NewLine], start: _Start, start_on: date, actor: str
) -> Invoice:
    """The first period's invoice, issued and due on the start day, and the period marked
    as billed by it."""
    invoice = invoices.create_invoice(
        service.client, lines, actor=actor, currency=service.pricing.currency
    )
    invoices.issue_invoice(invoice, issued_on=start_on, due_on=start_on, actor=actor)
    BilledPeriod.objects.create(
        service=service,
        period=start.first,
        invoice=invoice,
        start=start.start or start_on,
        end=start.end or start_on,
    )
    return invoice
