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
from datetime import date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db.models import Count, F, Q, Sum

from groupbill import money
from groupbill.catalog.models import PricingUnit
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


# A condition on a service, given the path to it ("" from services, "service__" from
# their options): MRR figures are sums of the services meeting one.
Condition = Callable[[str], Q]


def _recurring(
    company: Company, conditions: dict[str, Condition]
) -> dict[tuple[str, str], Fraction]:
    """Exact monthly amounts of `services` meeting each condition, by (currency, name),
    and the number of services meeting each (by (currency, "n:" + name)). Conditional
    sums over the services grouped by term: two queries, whatever the book's size and the
    number of conditions."""
    # Through the package (a small table), not the client: the company's services are
    # those of its packages.
    services = Service.objects.filter(package__company=company).exclude(
        pricing__unit=PricingUnit.ONETIME
    )
    term = ("pricing__currency", "pricing__unit", "pricing__count")
    amount = F("pricing__price") * F("quantity")
    rows = (
        services.values(*term)
        .annotate(**{name: Sum(amount, filter=when("")) for name, when in conditions.items()})
        .annotate(
            **{f"n:{name}": Count("pk", filter=when("")) for name, when in conditions.items()}
        )
        .order_by()
    )
    out: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for r in rows:
        for name in conditions:
            out[r["pricing__currency"], name] += monthly(
                r[name] or 0, r["pricing__unit"], r["pricing__count"]
            )
            out[r["pricing__currency"], f"n:{name}"] += r[f"n:{name}"]
    # Each option's price for its service's term and currency (at most one: unique), joined.
    options = (
        ServiceOption.objects.filter(service__package__company=company)
        .exclude(service__pricing__unit=PricingUnit.ONETIME)
        .filter(
            value__prices__unit=F("service__pricing__unit"),
            value__prices__count=F("service__pricing__count"),
            value__prices__currency=F("service__pricing__currency"),
        )
        .annotate(price=F("value__prices__price"))
        .values(*(f"service__{t}" for t in term))
        .annotate(
            **{
                name: Sum(F("price") * F("quantity"), filter=when("service__"))
                for name, when in conditions.items()
            }
        )
        .order_by()
    )
    for r in options:
        unit, count = r["service__pricing__unit"], r["service__pricing__count"]
        for name in conditions:
            out[r["service__pricing__currency"], name] += monthly(r[name] or 0, unit, count)
    return out


def _rounded(value: Fraction) -> int:
    return money.round_fraction(value, money.HALF_UP)


def _active(path: str) -> Q:
    return Q(**{f"{path}status": ServiceStatus.ACTIVE})


def _started(path: str) -> Q:
    """Started: not pending (nor canceled before it started), with a first period."""
    return ~Q(**{f"{path}status": ServiceStatus.PENDING}) & Q(
        **{f"{path}anchor_date__isnull": False}
    )


def _in_force_on(day: date, since: datetime) -> Condition:
    """Started before `day` and not canceled before `since` (the day's local midnight)."""

    def when(path: str) -> Q:
        not_canceled = Q(**{f"{path}canceled_at__isnull": True}) & ~Q(
            **{f"{path}status": ServiceStatus.CANCELED}
        )
        return (
            _started(path)
            & Q(**{f"{path}anchor_date__lt": day})
            & (not_canceled | Q(**{f"{path}canceled_at__gte": since}))
        )

    return when


def _new_in(first: date, after: date) -> Condition:
    return lambda path: (
        _started(path) & Q(**{f"{path}anchor_date__gte": first, f"{path}anchor_date__lt": after})
    )


def _churned_in(since: datetime, until: datetime) -> Condition:
    return lambda path: (
        _started(path) & Q(**{f"{path}canceled_at__gte": since, f"{path}canceled_at__lt": until})
    )


def mrr(company: Company) -> dict[str, int]:
    """MRR of the company's active services, per currency. Two queries."""
    sums = _recurring(company, {"mrr": _active})
    return {c: _rounded(v) for (c, name), v in sorted(sums.items()) if name == "mrr"}


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


def _midnight(day: date, company: Company) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(company.timezone))


def _month_conditions(company: Company, months: list[date]) -> dict[str, Condition]:
    conditions: dict[str, Condition] = {}
    for i, first in enumerate(months):
        after = first + relativedelta(months=1)
        since, until = _midnight(first, company), _midnight(after, company)
        conditions[f"start{i}"] = _in_force_on(first, since)
        conditions[f"new{i}"] = _new_in(first, after)
        conditions[f"churned{i}"] = _churned_in(since, until)
    return conditions


def _movements(sums, months: list[date]) -> dict[str, list[Movement]]:
    currencies = sorted({c for c, _ in sums})
    return {
        c: [
            Movement(
                first,
                _rounded(sums.get((c, f"start{i}"), Fraction(0))),
                _rounded(sums.get((c, f"new{i}"), Fraction(0))),
                _rounded(sums.get((c, f"churned{i}"), Fraction(0))),
                int(sums.get((c, f"n:churned{i}"), 0)),
            )
            for i, first in enumerate(months)
        ]
        for c in currencies
    }


def movements(company: Company, months: list[date]) -> dict[str, list[Movement]]:
    """MRR movements per currency for the given months (their first days; a month is
    the company's local month). Two queries."""
    sums = _recurring(company, _month_conditions(company, months))
    return _movements(sums, months)


@dataclass
class Summary:
    """MRR now and this month's movement, per currency (the dashboard's)."""

    mrr: dict[str, int]
    month: dict[str, Movement]


def summary(company: Company, today: date) -> Summary:
    """MRR now and the movement of today's month, in two queries."""
    first = today.replace(day=1)
    conditions = {"mrr": _active, **_month_conditions(company, [first])}
    sums = _recurring(company, conditions)
    now = {c: _rounded(v) for (c, name), v in sorted(sums.items()) if name == "mrr"}
    moves = _movements(sums, [first])
    return Summary(now, {c: rows[0] for c, rows in moves.items()})


def pending_orders(company: Company) -> int:
    """Services ordered and not yet active (waiting for payment or provisioning). One
    query."""
    return Service.objects.filter(client__company=company, status=ServiceStatus.PENDING).count()
