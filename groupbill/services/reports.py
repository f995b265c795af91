"""Monthly recurring revenue (MRR) and churn.

A service's MRR is its recurring price (package price x quantity plus each configurable
option's price x its quantity, for the service's term and currency) normalised to a
month: a quarterly price is divided by 3, a yearly one by 12, a weekly one multiplied by
365.25 / 12 / 7. One-time services have none. Figures are per currency, summed exactly
and rounded once (half up) per figure.

MRR now counts active services. The movements by month (new, churned, and the MRR at
each month's start they are measured against) are rebuilt from the services' start
(`anchor_date`) and cancellation (`canceled_at`, in the company's time zone): a service is
in force from its start until it is canceled, suspended or not, with its price now (a
past package change is not replayed). Each function is a fixed number of queries
whatever the book's size.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import TruncMonth

from groupbill import money
from groupbill.catalog.models import ConfigOptionPrice, PricingUnit
from groupbill.companies.models import Company
from groupbill.services.models import Service, ServiceOption, ServiceStatus

# Months in one unit of a term.
MONTHS_PER_UNIT = {
    PricingUnit.DAY: Fraction(48, 1461),  # 12 / 365.25
    PricingUnit.WEEK: Fraction(48 * 7, 1461),
    PricingUnit.MONTH: Fraction(1),
    PricingUnit.YEAR: Fraction(12),
}


def monthly(amount: int, unit: str, count: int) -> Fraction:
    """A price per term as an exact amount per month."""
    return Fraction(amount) / (MONTHS_PER_UNIT[unit] * count)


def _option_price():
    """The option value's price for the service's term and currency."""
    return Subquery(
        ConfigOptionPrice.objects.filter(
            value=OuterRef("value"),
            unit=OuterRef("service__pricing__unit"),
            count=OuterRef("service__pricing__count"),
            currency=OuterRef("service__pricing__currency"),
        ).values("price")[:1]
    )


Keys = dict[str, Callable[[str], Any]]  # name -> expression, given a path to the service


def _recurring(services, keys: Keys | None = None) -> dict[tuple, Fraction]:
    """Exact monthly amounts of `services` grouped by currency and `keys`. Two queries."""
    keys = keys or {}
    services = services.exclude(pricing__unit=PricingUnit.ONETIME)
    term = ("pricing__currency", "pricing__unit", "pricing__count")
    out: dict[tuple, Fraction] = defaultdict(Fraction)
    rows = (
        services.annotate(**{k: make("") for k, make in keys.items()})
        .values(*term, *keys)
        .annotate(amount=Sum(F("pricing__price") * F("quantity")))
        .order_by()
    )
    for r in rows:
        key = (r["pricing__currency"], *(r[k] for k in keys))
        out[key] += monthly(r["amount"], r["pricing__unit"], r["pricing__count"])
    options = (
        ServiceOption.objects.filter(service__in=services.values("pk"))
        .annotate(price=_option_price(), **{k: make("service__") for k, make in keys.items()})
        .filter(price__isnull=False)
        .values(*(f"service__{t}" for t in term), *keys)
        .annotate(amount=Sum(F("price") * F("quantity")))
        .order_by()
    )
    for r in options:
        key = (r["service__pricing__currency"], *(r[k] for k in keys))
        unit, count = r["service__pricing__unit"], r["service__pricing__count"]
        out[key] += monthly(r["amount"], unit, count)
    return out


def _rounded(value: Fraction) -> int:
    return money.round_fraction(value, money.HALF_UP)


def mrr(company: Company) -> dict[str, int]:
    """MRR of the company's active services, per currency. Two queries."""
    active = Service.objects.filter(client__company=company, status=ServiceStatus.ACTIVE)
    sums = _recurring(active)
    return {currency: _rounded(v) for (currency,), v in sorted(sums.items())}


@dataclass
class Movement:
    """One month of one currency: MRR in force at its first day, what started and what
    was canceled in it."""

    month: date
    start: int
    new: int
    churned: int
    churned_services: int

    @property
    def net(self) -> int:
        return self.new - self.churned

    @property
    def churn_rate(self) -> Fraction | None:
        """Churned MRR over the MRR at the month's start (None when there was none)."""
        return Fraction(self.churned, self.start) if self.start else None


def _month(value) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def movements(company: Company, months: list[date]) -> dict[str, list[Movement]]:
    """MRR movements per currency for the given months (their first days, in order).
    Three queries: services grouped by their start and cancellation months."""
    tz = ZoneInfo(company.timezone)
    keys: Keys = {
        "started": lambda path: TruncMonth(f"{path}anchor_date"),
        "ended": lambda path: TruncMonth(f"{path}canceled_at", tzinfo=tz),
    }
    services = (
        Service.objects.filter(client__company=company, anchor_date__isnull=False)
        .exclude(status=ServiceStatus.PENDING)
        .exclude(status=ServiceStatus.CANCELED, canceled_at__isnull=True)
    )
    sums = _recurring(services, keys)
    counts = (
        services.exclude(pricing__unit=PricingUnit.ONETIME)
        .filter(canceled_at__isnull=False)
        .annotate(ended=keys["ended"](""))
        .values("pricing__currency", "ended")
        .annotate(n=Count("pk"))
        .order_by()
    )
    churned_count = {(r["pricing__currency"], _month(r["ended"])): r["n"] for r in counts}
    by_currency: dict[str, dict[tuple, Fraction]] = defaultdict(dict)
    for (currency, started, ended), value in sums.items():
        key = (_month(started), _month(ended))
        by_currency[currency][key] = by_currency[currency].get(key, 0) + value
    out: dict[str, list[Movement]] = {}
    for currency, groups in sorted(by_currency.items()):
        rows = []
        for first in months:
            after = first + relativedelta(months=1)
            start = sum(
                (v for (s, e), v in groups.items() if s < first and (e is None or e >= first)),
                Fraction(0),
            )
            new = sum((v for (s, _), v in groups.items() if s == first), Fraction(0))
            gone = sum(
                (v for (_, e), v in groups.items() if e is not None and first <= e < after),
                Fraction(0),
            )
            rows.append(
                Movement(
                    first,
                    _rounded(start),
                    _rounded(new),
                    _rounded(gone),
                    churned_count.get((currency, first), 0),
                )
            )
        out[currency] = rows
    return out


def pending_orders(company: Company) -> int:
    """Services ordered and not yet active (waiting for payment or provisioning). One
    query."""
    return Service.objects.filter(client__company=company, status=ServiceStatus.PENDING).count()
