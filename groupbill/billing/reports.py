"""Reports on the ledger: what is owed and how late (ageing), what came in (income), what
was invoiced (revenue by month and by client group) and the tax on it (by rate and
country).

Every figure is per currency (amounts of different currencies are never added) in
integer minor units, and every function is a fixed number of set-based queries whatever
the book's size. Days are the company's calendar days: "today" is the caller's
(`companies.queries.company_today`), months are the company's local months.
"""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from groupbill.billing.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.companies.models import Company

# Days past due, both ends included: "current" is not yet due (or due today).
AGEING_BUCKETS: list[tuple[str, str, int | None, int | None]] = [
    ("current", "Current", None, 0),
    ("1_30", "1–30 days", 1, 30),  # noqa: RUF001
    ("31_60", "31–60 days", 31, 60),  # noqa: RUF001
    ("61_90", "61–90 days", 61, 90),  # noqa: RUF001
    ("90_plus", "Over 90 days", 91, None),
]
ISSUED = [InvoiceStatus.OPEN, InvoiceStatus.PAID]


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the last `months` months, the oldest first, today's month last."""
    first = today.replace(day=1)
    return [first - relativedelta(months=n) for n in range(months - 1, -1, -1)]


def local_midnight(day: date, company: Company) -> datetime:
    """The moment a company's calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(company.timezone))


# --- Ageing ------------------------------------------------------------------------


@dataclass
class Ageing:
    """Open balances of one currency by how long they are overdue."""

    currency: str
    amounts: dict[str, int]  # bucket key -> balance due
    counts: dict[str, int]  # bucket key -> invoices

    @property
    def total(self) -> int:
        return sum(self.amounts.values())

    @property
    def overdue(self) -> int:
        return self.total - self.amounts["current"]

    @property
    def overdue_count(self) -> int:
        return sum(self.counts.values()) - self.counts["current"]


def _bucket_filter(today: date, low: int | None, high: int | None) -> Q:
    """Invoices `low` to `high` days past due on `today` (due_on = today - days)."""
    q = Q()
    if low is not None:
        q &= Q(due_on__lte=today - timedelta(days=low))
    if high is not None:
        q &= Q(due_on__gte=today - timedelta(days=high)) | (
            Q(due_on__isnull=True) if low is None else Q()
        )
    return q


def ageing(company: Company, today: date) -> list[Ageing]:
    """Accounts-receivable ageing per currency: the balance due of every open invoice (its
    total less its credit notes and payments) by days past its due date on `today`. One
    query."""
    balance = F("total") - F("credited") - F("amount_paid")
    aggregates = {}
    for key, _, low, high in AGEING_BUCKETS:
        bucket = _bucket_filter(today, low, high)
        aggregates[f"a_{key}"] = Coalesce(Sum(balance, filter=bucket), 0)
        aggregates[f"n_{key}"] = Count("pk", filter=bucket)
    rows = (
        Invoice.objects.filter(company=company, status=InvoiceStatus.OPEN)
        .annotate(balance=balance)
        .filter(balance__gt=0)
        .values("currency")
        .annotate(**aggregates)
        .order_by("currency")
    )
    return [
        Ageing(
            row["currency"],
            {key: row[f"a_{key}"] for key, *_ in AGEING_BUCKETS},
            {key: row[f"n_{key}"] for key, *_ in AGEING_BUCKETS},
        )
        for row in rows
    ]


# --- Income (money received) ---------------------------------------------------------


@dataclass
class Series:
    """Amounts of one currency by month (first days), oldest first."""

    currency: str
    months: list[date]
    amounts: list[int]

    def at(self, month: date) -> int:
        return self.amounts[self.months.index(month)] if month in self.months else 0


def _by_month(rows, months: list[date]) -> list[Series]:
    """Turn rows of conditional sums (`m0`, `m1`... per currency) into series."""
    return [
        Series(r["currency"], months, [r[f"m{i}"] or 0 for i in range(len(months))]) for r in rows
    ]


def _monthly(queryset, field: str, bounds: list, amount) -> list[Series]:
    """Sums of `amount` per currency with `field` in each [bounds[i], bounds[i+1]): one
    query of conditional sums (no per-row date function, so an index range and plain
    comparisons do the work)."""
    sums = {
        f"m{i}": Sum(amount, filter=Q(**{f"{field}__gte": low, f"{field}__lt": high}))
        for i, (low, high) in enumerate(itertools.pairwise(bounds))
    }
    rows = (
        queryset.filter(**{f"{field}__gte": bounds[0], f"{field}__lt": bounds[-1]})
        .values("currency")
        .annotate(**sums)
        .order_by("currency")
    )
    return list(rows)


def _received() -> Q:
    kinds = [TransactionKind.PAYMENT, TransactionKind.REFUND]
    return Q(kind__in=kinds, status=TransactionStatus.APPROVED)


def _net(field_name: str = "amount"):
    """Payments in, refunds out."""
    return Sum(field_name, filter=Q(kind=TransactionKind.PAYMENT), default=0) - Sum(
        field_name, filter=Q(kind=TransactionKind.REFUND), default=0
    )


def income_by_month(company: Company, today: date, months: int = 12) -> list[Series]:
    """Approved payments less refunds per local month, the last `months` months. One
    query."""
    starts = month_starts(today, months)
    queryset = Transaction.objects.filter(_received(), company=company)
    rows = _monthly(queryset, "created_at", _month_bounds(company, starts), _signed())
    return _by_month(rows, starts)


def _month_bounds(company: Company, starts: list[date]) -> list[datetime]:
    """The moments the months begin, and the one after the last ends."""
    bounds = [local_midnight(m, company) for m in starts]
    return [*bounds, local_midnight(starts[-1] + relativedelta(months=1), company)]


def _signed():
    """A received transaction's amount: payments in, refunds out."""
    return Case(
        When(kind=TransactionKind.REFUND, then=-F("amount")),
        default=F("amount"),
        output_field=BigIntegerField(),
    )


def income_on(company: Company, day: date) -> dict[str, int]:
    """Payments less refunds of one local day, per currency. One query."""
    rows = (
        Transaction.objects.filter(_received(), company=company)
        .filter(
            created_at__gte=local_midnight(day, company),
            created_at__lt=local_midnight(day + timedelta(days=1), company),
        )
        .values("currency")
        .annotate(amount=_net())
        .order_by("currency")
    )
    return {row["currency"]: row["amount"] for row in rows}


@dataclass
class Failed:
    currency: str
    count: int
    amount: int


def failed_charges(company: Company, since: date) -> list[Failed]:
    """Payment attempts declined or in error since a local day, per currency. One query."""
    rows = (
        Transaction.objects.filter(
            company=company,
            kind=TransactionKind.PAYMENT,
            status__in=[TransactionStatus.DECLINED, TransactionStatus.ERROR],
            created_at__gte=local_midnight(since, company),
        )
        .values("currency")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .order_by("currency")
    )
    return [Failed(r["currency"], r["count"], r["amount"]) for r in rows]


# --- Revenue (invoiced) --------------------------------------------------------------


def _issued(company: Company, start: date, end: date):
    """Issued (not void, not draft) invoices with an issue day in [start, end)."""
    return Invoice.objects.filter(
        company=company, status__in=ISSUED, issued_on__gte=start, issued_on__lt=end
    )


def _credited(company: Company):
    """Credit notes of issued (not void) invoices: what those invoices no longer bill.
    Revenue and tax count an invoice less its credit notes, in the invoice's month (a void
    invoice, credited in full, does not count at all)."""
    return CreditNote.objects.filter(company=company, invoice__status__in=ISSUED)


def revenue_by_month(company: Company, today: date, months: int = 12) -> list[Series]:
    """What was invoiced (net of tax, less its credit notes) per month of issue, the last
    `months` months. Two queries."""
    starts = month_starts(today, months)
    bounds = [*starts, starts[-1] + relativedelta(months=1)]
    queryset = Invoice.objects.filter(company=company, status__in=ISSUED)
    series = _by_month(_monthly(queryset, "issued_on", bounds, F("total") - F("tax_total")), starts)
    credited = _by_month(
        _monthly(_credited(company), "invoice__issued_on", bounds, F("total") - F("tax_total")),
        starts,
    )
    for less in credited:
        for s in series:
            if s.currency == less.currency:
                s.amounts = [a - c for a, c in zip(s.amounts, less.amounts, strict=True)]
    return series


@dataclass
class GroupRevenue:
    group: str
    currency: str
    invoices: int
    net: int
    tax: int

    @property
    def gross(self) -> int:
        return self.net + self.tax


def revenue_by_group(company: Company, start: date, end: date) -> list[GroupRevenue]:
    """What was invoiced in [start, end) per client group (the client's group now) and
    currency, less the invoices' credit notes. Two queries."""
    rows = (
        _issued(company, start, end)
        .values("client__group__name", "currency")
        .annotate(
            invoices=Count("pk"),
            net=Sum(F("total") - F("tax_total")),
            tax=Sum("tax_total"),
        )
        .order_by("client__group__name", "currency")
    )
    credited = {
        (r["invoice__client__group__name"], r["currency"]): (r["net"], r["tax"])
        for r in _credited(company)
        .filter(invoice__issued_on__gte=start, invoice__issued_on__lt=end)
        .values("invoice__client__group__name", "currency")
        .annotate(net=Sum(F("total") - F("tax_total")), tax=Sum("tax_total"))
        .order_by()
    }
    out = []
    for r in rows:
        net, tax = credited.get((r["client__group__name"], r["currency"]), (0, 0))
        out.append(GroupRevenue(r["client__group__name"], r["currency"], r["invoices"],
                                r["net"] - net, r["tax"] - tax))  # fmt: skip
    return out


# --- Tax --------------------------------------------------------------------------------


@dataclass
class TaxRow:
    currency: str
    country: str  # the buyer's, as invoiced ("" when the invoice kept none)
    rate: Decimal
    rule: str  # the tax decision's rule (domestic, reverse charge, ...)
    lines: int
    net: int  # the lines' amounts without their taxes
    tax: int


def _plain_rate(rate: Decimal) -> Decimal:
    """19.0000 -> 19, 7.5000 -> 7.5 (never 2E+1)."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def tax_by_rate(company: Company, start: date, end: date) -> list[TaxRow]:
    """Tax on the lines of invoices issued in [start, end), per currency, buyer's
    country, rate and rule; a line's second tax is a row of its own (with the line's net
    amount again). Untaxed lines (rate 0) are rows too: reverse-charge sales are
    declared. Lines a credit note credits do not count. Two queries."""
    lines = InvoiceLine.objects.filter(
        invoice__company=company,
        invoice__status__in=ISSUED,
        invoice__issued_on__gte=start,
        invoice__issued_on__lt=end,
        credit_line__isnull=True,
    ).annotate(
        currency=F("invoice__currency"),
        country=Coalesce(
            KeyTextTransform("country", "invoice__buyer"), Value(""), output_field=TextField()
        ),
        net=F("total") - F("tax1_amount") - F("tax2_amount"),
    )
    keyed: dict[tuple, TaxRow] = {}
    for number, only in ((1, Q()), (2, ~Q(tax2_rate=0))):
        rows = (
            lines.filter(only)
            .values("currency", "country", f"tax{number}_rate", "tax_rule")
            .annotate(n=Count("pk"), net_sum=Sum("net"), tax=Sum(f"tax{number}_amount"))
            .order_by()
        )
        for r in rows:
            rate = _plain_rate(Decimal(r[f"tax{number}_rate"]))
            key = (r["currency"], r["country"] or "", rate, r["tax_rule"])
            row = keyed.setdefault(key, TaxRow(*key, lines=0, net=0, tax=0))
            row.lines += r["n"]
            row.net += r["net_sum"]
            row.tax += r["tax"]
    return sorted(keyed.values(), key=lambda t: (t.currency, t.country, -t.rate, t.rule))


@dataclass
class Dashboard:
    """The ledger's share of a company's dashboard."""

    today: date
    income_today: dict[str, int]
    income: list[Series]  # the last 12 months
    ageing: list[Ageing]
    failed: list[Failed] = field(default_factory=list)

    def income_this_month(self) -> dict[str, int]:
        month = self.today.replace(day=1)
        return {s.currency: s.at(month) for s in self.income}


def dashboard(company: Company, today: date, months: int = 12) -> Dashboard:
    """What `income_on`, `income_by_month` and `failed_charges` (of the last 30 days)
    tell, from one pass over the transactions, and `ageing`: two queries."""
    starts = month_starts(today, months)
    bounds = _month_bounds(company, starts)
    day = Q(created_at__gte=local_midnight(today, company),
            created_at__lt=local_midnight(today + timedelta(days=1), company))  # fmt: skip
    failed = Q(
        kind=TransactionKind.PAYMENT,
        status__in=[TransactionStatus.DECLINED, TransactionStatus.ERROR],
        created_at__gte=local_midnight(today - timedelta(days=30), company),
    )
    sums = {
        f"m{i}": Sum(_signed(), filter=_received() & Q(created_at__gte=low, created_at__lt=high))
        for i, (low, high) in enumerate(itertools.pairwise(bounds))
    }
    rows = list(
        Transaction.objects.filter(company=company)
        .filter(created_at__gte=bounds[0], created_at__lt=bounds[-1])
        .filter(_received() | failed)
        .values("currency")
        .annotate(
            **sums,
            received=Count("pk", filter=_received()),
            today=Sum(_signed(), filter=_received() & day),
            failed_count=Count("pk", filter=failed),
            failed_amount=Sum("amount", filter=failed),
        )
        .order_by("currency")
    )
    received = [r for r in rows if r["received"]]
    return Dashboard(
        today=today,
        income_today={r["currency"]: r["today"] for r in received if r["today"] is not None},
        income=_by_month(received, starts),
        ageing=ageing(company, today),
        failed=[
            Failed(r["currency"], r["failed_count"], r["failed_amount"])
            for r in rows
            if r["failed_count"]
        ],
    )
