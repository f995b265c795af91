"""What a client may pick from in the portal: terms, packages and addons for a service."""

from django.db.models import QuerySet

from groupbill.catalog.models import PackagePrice, PricingUnit
from groupbill.services.models import Service


def _prices() -> QuerySet[PackagePrice]:
    return PackagePrice.objects.filter(package__active=True).select_related("package")


def term_choices(service: Service) -> QuerySet[PackagePrice]:
    """The service's package in the other recurring terms of its currency."""
    return (
        _prices()
        .filter(package_id=service.package_id, currency=service.pricing.currency)
        .exclude(unit=PricingUnit.ONETIME)
        .exclude(pk=service.pricing_id)
        .order_by("unit", "count")
    )


def package_choices(service: Service) -> QuerySet[PackagePrice]:
    """Other packages of the same kind (top-level, or addons of the same parent package) in
    the service's term and currency."""
    p = service.pricing
    prices = (
        _prices()
        .filter(package__company_id=service.package.company_id, unit=p.unit, count=p.count,
                currency=p.currency)
        .exclude(package_id=service.package_id)
    )  # fmt: skip
    if service.parent_id:
        prices = prices.filter(
            package__addon_of=service.parent.package_id, package__client_can_order_as_addon=True
        )
    else:
        prices = prices.filter(package__addon_of__isnull=True)
    return prices.order_by("price", "package__name")


def addon_choices(service: Service) -> QuerySet[PackagePrice]:
    """Addons a client may order for this service, in its currency."""
    return (
        _prices()
        .filter(
            package__addon_of=service.package_id,
            package__client_can_order_as_addon=True,
            currency=service.pricing.currency,
        )
        .order_by("package__name", "unit", "count")
    )
