"""Reads of the catalogue that several callers share: packages with everything the API
and the UI show, and the price lookups services use when they are ordered and renewed."""

from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
    PricingUnit,
)
from groupbill.companies.models import Company
from groupbill.errors import Conflict, NotFound


def _options() -> QuerySet[ConfigOption]:
    return ConfigOption.objects.order_by("pk").prefetch_related(
        Prefetch("values", queryset=ConfigOptionValue.objects.order_by("pk")),
        Prefetch("values__prices", queryset=ConfigOptionPrice.objects.order_by("pk")),
    )


def packages(company: Company | None = None) -> QuerySet[Package]:
    """Packages by id, with prices, options (values, their prices) and addon_of prefetched."""
    queryset = Package.objects.all() if company is None else company.packages.all()
    return queryset.order_by("pk").prefetch_related(
        Prefetch("prices", queryset=PackagePrice.objects.order_by("pk")),
        Prefetch("options", queryset=_options()),
        Prefetch("addon_of", queryset=Package.objects.order_by("pk").only("pk", "name")),
    )


def get_package(package_id: int) -> Package:
    package = packages().filter(pk=package_id).select_related("company").first()
    if package is None:
        raise NotFound(f"Package {package_id} does not exist.")
    return package


def get_price(price_id: int) -> PackagePrice:
    price = PackagePrice.objects.select_related("package").filter(pk=price_id).first()
    if price is None:
        raise NotFound(f"Price {price_id} does not exist.")
    return price


def options(package: Package) -> QuerySet[ConfigOption]:
    return _options().filter(package=package)


def get_option(option_id: int) -> ConfigOption:
    option = _options().filter(pk=option_id).select_related("package").first()
    if option is None:
        raise NotFound(f"Package option {option_id} does not exist.")
    return option


def has_services(package: Package) -> bool:
    return package.services.exists()


def ensure_orderable(package: Package) -> None:
    """Ordering an inactive package is refused; its existing services carry on."""
    if not package.active:
        raise Conflict(f'Package "{package.name}" is inactive and cannot be ordered.')


def _term(unit: str, count: int, currency: str) -> tuple[str, int, str]:
    return str(unit), 1 if unit == PricingUnit.ONETIME else count, currency.upper()


def price_for(package: Package, unit: str, count: int, currency: str) -> PackagePrice | None:
    """The package's price for a term (unit x count; one-time: count 1) in a currency, or
    None when the package is not sold that way. Uses prefetched prices when present."""
    unit, count, currency = _term(unit, count, currency)
    if "prices" in getattr(package, "_prefetched_objects_cache", {}):
        return next(
            (
                p
                for p in package.prices.all()
                if (p.unit, p.count, p.currency) == (unit, count, currency)
            ),
            None,
        )
    return PackagePrice.objects.filter(
        package=package, unit=unit, count=count, currency=currency
    ).first()


def option_price_for(
    value: ConfigOptionValue, unit: str, count: int, currency: str
) -> ConfigOptionPrice | None:
    """An option value's price (per unit for quantity options) for a term and currency.
    None means the value is not offered for that term and currency (a price of 0 is free)."""
    return option_prices_for([value.pk], unit, count, currency).get(value.pk)


def option_prices_for(
    value_ids: Iterable[int], unit: str, count: int, currency: str
) -> dict[int, ConfigOptionPrice]:
    """option_price_for for many values in one query: {value_id: price}, missing = not
    offered."""
    unit, count, currency = _term(unit, count, currency)
    rows = ConfigOptionPrice.objects.filter(
        value_id__in=list(value_ids), unit=unit, count=count, currency=currency
    )
    return {row.value_id: row for row in rows}
