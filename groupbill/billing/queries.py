"""Reads of the ledger that the API and the UI share."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Case,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)

from groupbill.billing import ledger
from groupbill.billing.models import (
    PREVIEW_NUMBERS,
    Application,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PaymentAccount,
    Transaction,
    TransactionStatus,
)
from groupbill.clients.queries import client_sort, primary_contacts
from groupbill.companies.models import Company
from groupbill.companies.queries import company_today
from groupbill.errors import NotFound
from groupbill.listing import filtered, ordered


def invoices() -> QuerySet[Invoice]:
    """Invoices by id, with their lines (in order), the payments applied to them and their
    credit notes (by number)."""
    return Invoice.objects.order_by("pk").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
        Prefetch("applications", queryset=Application.objects.order_by("pk")),
        Prefetch("credit_notes", queryset=CreditNote.objects.order_by("number")),
    )


def get_invoice(invoice_id: int) -> Invoice:
    invoice = invoices().select_related("company").filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} does not exist.")
    return invoice


def get_invoice_line(invoice: Invoice, line_id: int) -> InvoiceLine:
    line = invoice.lines.filter(pk=line_id).first()
    if line is None:
        raise NotFound(f"{invoice} has no line {line_id}.")
    return line


def credit_notes() -> QuerySet[CreditNote]:
    """Credit notes by id, with the invoice they credit and their lines in the invoice's
    order."""
    return (
        CreditNote.objects.order_by("pk")
        .select_related("invoice")
        .prefetch_related(
            Prefetch("lines", queryset=CreditNoteLine.objects.order_by("position", "pk"))
        )
    )


def get_credit_note(credit_note_id: int) -> CreditNote:
    note = credit_notes().select_related("company").filter(pk=credit_note_id).first()
    if note is None:
        raise NotFound(f"Credit note {credit_note_id} does not exist.")
    return note


def transactions() -> QuerySet[Transaction]:
    """Transactions by id, with the amounts applied to invoices."""
    return Transaction.objects.order_by("pk").prefetch_related(
        Prefetch("applications", queryset=Application.objects.order_by("pk"))
    )


def get_transaction(transaction_id: int) -> Transaction:
    txn = transactions().filter(pk=transaction_id).first()
    if txn is None:
        raise NotFound(f"Transaction {transaction_id} does not exist.")
    return txn


def unapplied(txns: list[Transaction]) -> dict[int, int]:
    """What is left of each approved payment or credit (neither applied nor refunded), by
    id, in one query for the list: 0 for refunds and for attempts not approved."""
    used = ledger.used_amounts([t.pk for t in txns])
    return {
        t.pk: t.amount - used.get(t.pk, 0)
        if t.kind in ledger.FUNDS and t.status == TransactionStatus.APPROVED
        else 0
        for t in txns
    }


def get_payment_account(account_id: int) -> PaymentAccount:
    account = PaymentAccount.objects.select_related("client").filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"Payment account {account_id} does not exist.")
    return account


# --- Lists across clients (the staff lists of invoices and payments) ---------------------

# How many hits of one kind a search shows; one more is fetched to say "more".
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class InvoiceFilter:
    """What the invoice list shows. `status` is a status, or "overdue": open and due before
    the company's today. Dates are inclusive; None means no bound."""

    status: str = ""
    company_id: int | None = None
    group_id: int | None = None
    client_id: int | None = None
    currency: str = ""
    issued_from: date | None = None
    issued_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None


# The columns an invoice list sorts by (a leading "-" sorts descending); ties by id.
INVOICE_SORTS = {
    "number": ("number",),
    "client": ("client_sort",),
    "issued": ("issued_on",),
    "due": ("due_on",),
    "total": ("total",),
    "balance": ("balance",),
    "status": ("status",),
    "id": (),
}


def _todays(company_ids: Iterable[int] | None = None) -> dict[int, date]:
    """Each company's today, in one query (there are few companies)."""
    queryset = Company.objects.only("pk", "timezone")
    if company_ids is not None:
        queryset = queryset.filter(pk__in=list(company_ids))
    return {c.pk: company_today(c) for c in queryset}


def overdue_q(todays: dict[int, date] | None = None) -> Q:
    """Open invoices with a balance due, due before their company's today (each company has
    its own day): what the dashboard and the ageing report count as overdue."""
    todays = _todays() if todays is None else todays
    due = Q(pk__in=[])
    for company_id, today in todays.items():
        due |= Q(company_id=company_id, due_on__lt=today)
    owed = Q(total__gt=F("credited") + F("amount_paid"))
    return Q(status=InvoiceStatus.OPEN) & owed & due


def invoice_list(filters: InvoiceFilter, sort: str = "-id") -> QuerySet[Invoice]:
    """Invoices across clients, filtered and sorted, each with its client (and the client's
    group and primary contact as `client.primary_contacts`), company, `balance` and
    `is_overdue`: a page costs the same few queries however large the book."""
    todays = _todays()
    overdue = overdue_q(todays)
    queryset = Invoice.objects.exclude(number__gte=PREVIEW_NUMBERS)
    if filters.status == "overdue":
        queryset = queryset.filter(overdue)
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    queryset = filtered(queryset, (
        ("company_id", filters.company_id),
        ("client__group_id", filters.group_id),
        ("client_id", filters.client_id),
        ("currency", filters.currency),
        ("issued_on__gte", filters.issued_from),
        ("issued_on__lte", filters.issued_to),
        ("due_on__gte", filters.due_from),
        ("due_on__lte", filters.due_to),
    ))  # fmt: skip
    queryset = queryset.annotate(
        balance=F("total") - F("credited") - F("amount_paid"),
        is_overdue=Case(When(overdue, then=Value(True)), default=Value(False),
                        output_field=BooleanField()),
    )  # fmt: skip
    if sort.removeprefix("-") == "client":
        queryset = queryset.annotate(client_sort=client_sort())
    return (
        ordered(queryset, sort, INVOICE_SORTS)
        .select_related("company", "client__group")
        .prefetch_related(primary_contacts("client__"))
    )


@dataclass(frozen=True)
class TransactionFilter:
    """What the payments list shows; `gateway` is the transaction's method (manual, a
    gateway's name, credit). Dates are the company's days, inclusive."""

    kind: str = ""
    status: str = ""
    gateway: str = ""
    company_id: int | None = None
    group_id: int | None = None
    client_id: int | None = None
    currency: str = ""
    date_from: date | None = None
    date_to: date | None = None


TRANSACTION_SORTS = {
    "date": ("created_at",),
    "client": ("client_sort",),
    "amount": ("amount",),
    "kind": ("kind",),
    "status": ("status",),
    "gateway": ("method",),
    "id": (),
}


def _day_bounds(todays: dict[int, date], start: date | None, end: date | None) -> Q:
    """created_at within [start, end] as each company's calendar reads it."""
    companies = Company.objects.filter(pk__in=list(todays)).only("pk", "timezone")
    within = Q(pk__in=[])
    for company in companies:
        zone = ZoneInfo(company.timezone)
        q = Q(company_id=company.pk)
        if start:
            q &= Q(created_at__gte=datetime.combine(start, time.min, zone))
        if end:
            q &= Q(created_at__lt=datetime.combine(end + timedelta(days=1), time.min, zone))
        within |= q
    return within


def transaction_list(filters: TransactionFilter, sort: str = "-date") -> QuerySet[Transaction]:
    """Transactions across clients, filtered and sorted, with client (group, primary
    contact), company and the invoices they were applied to: a constant number of queries
    per page."""
    queryset = filtered(Transaction.objects.all(), (
        ("kind", filters.kind),
        ("status", filters.status),
        ("method", filters.gateway),
        ("company_id", filters.company_id),
        ("client__group_id", filters.group_id),
        ("client_id", filters.client_id),
        ("currency", filters.currency),
    ))  # fmt: skip
    if filters.date_from or filters.date_to:
        queryset = queryset.filter(_day_bounds(_todays(), filters.date_from, filters.date_to))
    if sort.removeprefix("-") == "client":
        queryset = queryset.annotate(client_sort=client_sort())
    return ordered(queryset, sort, TRANSACTION_SORTS).select_related(
        "company", "client__group"
    ).prefetch_related(
        primary_contacts("client__"),
        Prefetch("applications", queryset=Application.objects.select_related("invoice")
                 .order_by("pk")),
    )  # fmt: skip


def _of(queryset, company_ids: list[int] | None):
    return queryset if company_ids is None else queryset.filter(company_id__in=company_ids)


def gateways(company_ids: list[int] | None = None) -> list[str]:
    """The methods transactions were made with, for the payments list's filter (of these
    companies; None: every company)."""
    methods = _of(Transaction.objects, company_ids).order_by("method")
    return list(methods.values_list("method", flat=True).distinct())


def currencies(company_ids: list[int] | None = None) -> list[str]:
    """The currencies invoiced in these companies (None: every company)."""
    invoiced = _of(Invoice.objects, company_ids).order_by("currency")
    return list(invoiced.values_list("currency", flat=True).distinct())


def search_invoices(
    text: str, limit: int = SEARCH_LIMIT, company_ids: list[int] | None = None
) -> list[Invoice]:
    """Issued invoices whose number is the number in `text` ("1024", "Invoice 1024",
    "#1024"), in these companies (None: every company); drafts by their id ("draft 12").
    Uses the (company, number) index: one probe per company."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits or len(digits) > 18:
        return []
    number = int(digits)
    if company_ids is None:
        company_ids = list(Company.objects.values_list("pk", flat=True))
    found = Q(company_id__in=company_ids, number=number)
    if "draft" in text.lower():
        found = Q(company_id__in=company_ids, pk=number, status=InvoiceStatus.DRAFT)
    return list(
        invoice_list(InvoiceFilter()).filter(found).order_by("company_id", "pk")[: limit + 1]
    )


def search_credit_notes(
    text: str, limit: int = SEARCH_LIMIT, company_ids: list[int] | None = None
) -> list[CreditNote]:
    """Credit notes whose number is the number in `text` ("7", "Credit note 7", "#7"), in
    these companies (None: every company), each with its client (and primary contact),
    company and the invoice it credits. "draft 12" names a draft invoice: no credit note.
    Uses the (company, number) constraint's index: one probe per company."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits or len(digits) > 18 or "draft" in text.lower():
        return []
    if company_ids is None:
        company_ids = list(Company.objects.values_list("pk", flat=True))
    return list(
        CreditNote.objects.filter(company_id__in=company_ids, number=int(digits))
        .select_related("company", "invoice", "client")
        .prefetch_related(primary_contacts("client__"))
        .order_by("company_id", "pk")[: limit + 1]
    )
