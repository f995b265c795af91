"""What a service costs per period, and the invoice lines of a period.

A service's recurring price is its package price x quantity plus each configurable
option's price (x the option's quantity) for the same term and currency. A partial period
is prorated on the total, rounded once, and split back over the lines with the remainder
on the last one, so the lines add up to exactly the prorated total.
"""

from dataclasses import dataclass
from datetime import date

from groupbill import money
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import LineKind
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    Package,
    PackagePrice,
)
from groupbill.catalog.queries import option_prices_for
from groupbill.errors import FieldError, ValidationFailed
from groupbill.periods import date_range

# {option_id: (value_id, quantity)}
OptionChoice = dict[int, tuple[int, int]]


@dataclass(frozen=True)
class Part:
    kind: str  # LineKind.SERVICE or LineKind.OPTION
    label: str
    unit_amount: int
    quantity: int
    setup_fee: int

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity


@dataclass(frozen=True)
class OptionCatalog:
    """The options, values and option prices that some configurations use, loaded at once
    (three queries for any number of services)."""

    options: dict[int, ConfigOption]
    values: dict[int, ConfigOptionValue]
    prices: dict[tuple[int, str, int, str], ConfigOptionPrice]  # (value, unit, count, currency)

    @classmethod
    def load(cls, choices: list[OptionChoice]) -> "OptionCatalog":
        option_ids = {o for choice in choices for o in choice}
        value_ids = {v for choice in choices for v, _ in choice.values()}
        if not option_ids:
            return cls({}, {}, {})
        return cls(
            ConfigOption.objects.in_bulk(option_ids),
            ConfigOptionValue.objects.in_bulk(value_ids),
            {
                (p.value_id, p.unit, p.count, p.currency): p
                for p in ConfigOptionPrice.objects.filter(value_id__in=value_ids)
            },
        )

    def prices_for(self, pricing: PackagePrice) -> dict[int, ConfigOptionPrice]:
        term = (pricing.unit, pricing.count, pricing.currency)
        return {v: p for (v, *t), p in self.prices.items() if tuple(t) == term}


def parts(
    package: Package,
    pricing: PackagePrice,
    quantity: int,
    options: OptionChoice,
    catalog: OptionCatalog | None = None,
) -> list[Part]:
    """The priced pieces of a configuration; refuses options the package does not have or
    that have no price for the pricing's term and currency. `catalog`: options loaded
    beforehand for many services (else they are read here)."""
    out = [Part(LineKind.SERVICE, package.name, pricing.price, quantity, pricing.setup_fee)]
    if not options:
        return out
    if catalog is None:
        known = {o.pk: o for o in ConfigOption.objects.filter(package=package, pk__in=options)}
        values = {
            v.pk: v
            for v in ConfigOptionValue.objects.filter(pk__in=[val for val, _ in options.values()])
        }
        prices = option_prices_for(values, pricing.unit, pricing.count, pricing.currency)
    else:
        known = {o: catalog.options[o] for o in options if o in catalog.options}
        known = {o: opt for o, opt in known.items() if opt.package_id == package.pk}
        values = catalog.values
        prices = catalog.prices_for(pricing)
    errors: list[FieldError] = []
    for option_id, (value_id, qty) in sorted(options.items()):
        field = f"options.{option_id}"
        option, value = known.get(option_id), values.get(value_id)
        if option is None:
            errors.append(FieldError(field, f"{package.name} has no option {option_id}"))
        elif value is None or value.option_id != option_id:
            errors.append(FieldError(field, f'"{option.name}" has no value {value_id}'))
        elif value_id not in prices:
            term = f"{pricing.term_label()} {pricing.currency}"
            errors.append(FieldError(field, f'"{option.name}: {value.name}" has no {term} price'))
        elif not 1 <= qty <= 100_000 or (option.kind == "select" and qty != 1):
            errors.append(FieldError(field, "quantity must be 1 (up to 100000 for quantity "
                                            "options)"))  # fmt: skip
        else:
            price = prices[value_id]
            out.append(Part(LineKind.OPTION, f"{option.name}: {value.name}", price.price, qty,
                            price.setup_fee))  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    return out


def per_period(priced: list[Part]) -> int:
    return sum(p.amount for p in priced)


def period_lines(
    priced: list[Part],
    *,
    service_id: int | None,
    start: date | None,
    end: date | None,
    language: str,
    show_option_dates: bool,
    fraction: tuple[int, int] | None = None,
    mode: str = money.HALF_UP,
) -> list[NewLine]:
    """Invoice lines for one period (or one-time charge when start is None). `fraction`
    (part, whole) in days prorates the period."""
    dates = date_range(start, end, language) if start and end else ""
    amounts = [p.amount for p in priced]
    if fraction is not None:
        total = money.prorate(sum(amounts), fraction[0], fraction[1], mode)
        amounts = money.split(total, amounts, mode) if any(amounts) else [0] * len(amounts)
    lines = []
    for part, amount in zip(priced, amounts, strict=True):
        show = dates and (part.kind == LineKind.SERVICE or show_option_dates)
        label = f"{part.label} ({dates})" if show else part.label
        if fraction is None:
            unit, qty = part.unit_amount, part.quantity
        else:
            unit, qty = amount, 1
            label += f", prorated {fraction[0]}/{fraction[1]} days"
        lines.append(NewLine(label, unit, qty, part.kind, service_id, start, end))
    return lines


def setup_lines(priced: list[Part], service_id: int) -> list[NewLine]:
    return [
        NewLine(f"Setup: {p.label}", p.setup_fee, 1, LineKind.SETUP, service_id)
        for p in priced
        if p.setup_fee
    ]
