"""Transactions: payments received, credit granted and refunds, what is applied of them to
invoices, and each client's balance per currency.

Amounts are integers in the currency's minor units, each beside its `currency`.
`unapplied` is what is left of an approved payment or credit (neither applied to an
invoice nor refunded): the client's loose credit. `client_id` names the client: unknown,
it is a 404 like an id in the path; `invoice_id` is a 422 on its field.
"""

from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictStr

from groupbill.api.auth import actor, key_company, principal
from groupbill.api.common import BodyId, Id, Page, PageQuery, StrictBody, paginate, referenced
from groupbill.api.fields import CurrencyCode, PositiveAmount, required_text, text
from groupbill.billing import payments
from groupbill.billing.models import Transaction, TransactionKind
from groupbill.billing.queries import get_invoice, get_transaction, transactions, unapplied
from groupbill.clients.queries import get_client
from groupbill.errors import FieldError, ValidationFailed

router = Router(tags=["transactions"])


class TransactionIn(StrictBody):
    """A payment received (`method` defaults to manual) or credit granted (no method or
    reference: a `note` says why). Either is loose credit until applied.

    `idempotency_key` (optional, yours: each API key has its own keys) binds the request:
    sent again with the same request it answers the first transaction and records
    nothing; with another client, kind, amount, currency or text it is refused (422 on
    `idempotency_key`)."""

    client_id: BodyId
    kind: Literal["payment", "credit"]
    amount: PositiveAmount
    currency: CurrencyCode
    method: required_text(32) | None = None
    reference: text(128) | None = None
    note: text(500) = ""
    idempotency_key: StrictStr | None = None


class ApplyIn(StrictBody):
    invoice_id: BodyId
    amount: PositiveAmount


class RefundIn(StrictBody):
    """`idempotency_key` (optional, yours: each API key has its own keys) binds the
    request: sent again with the same request it answers the first refund and refunds
    nothing; with another amount or reference it is refused (422 on `idempotency_key`)."""

    amount: PositiveAmount
    reference: text(128) = ""
    idempotency_key: StrictStr | None = None


class ApplyCreditIn(StrictBody):
    currency: CurrencyCode


class ApplicationOut(Schema):
    invoice_id: int
    amount: int


class TransactionOut(Schema):
    id: int
    company_id: int
    client_id: int
    kind: str
    status: str
    amount: int
    currency: str
    unapplied: int
    method: str
    reference: str
    note: str
    payment_account_id: int | None
    refund_of_id: int | None
    idempotency_key: str | None
    actor: str
    created_at: datetime
    disputed_at: datetime | None  # when the card holder disputed it with their bank
    applications: list[ApplicationOut]


class TransactionList(Schema):
    items: list[TransactionOut]
    count: int


class BalanceOut(Schema):
    currency: str
    due: int  # open invoices' balance due
    credit: int  # loose credit


class BalanceList(Schema):
    items: list[BalanceOut]
    count: int


class CreditApplied(Schema):
    currency: str
    applied: int


_FIELDS = ("id", "company_id", "client_id", "kind", "status", "amount", "currency", "method",
           "reference", "note", "payment_account_id", "refund_of_id", "idempotency_key",
           "actor", "created_at", "disputed_at")  # fmt: skip


def transaction_out(txn: Transaction, left: int | None = None) -> dict[str, Any]:
    return {
        **{f: getattr(txn, f) for f in _FIELDS},
        "unapplied": unapplied([txn])[txn.pk] if left is None else left,
        "applications": [
            {"invoice_id": a.invoice_id, "amount": a.amount} for a in txn.applications.all()
        ],
    }


def _page(queryset: QuerySet[Transaction], page: Page) -> dict[str, Any]:
    result = paginate(queryset, page, lambda t: t)
    left = unapplied(result["items"])
    result["items"] = [transaction_out(t, left[t.pk]) for t in result["items"]]
    return result


@router.get("/transactions", response=TransactionList)
def list_transactions(request: HttpRequest, page: PageQuery, client_id: Id | None = None):
    queryset = transactions()
    if client_id is not None:
        queryset = queryset.filter(client_id=client_id)
    if key_company(request) is not None:
        queryset = queryset.filter(company_id=key_company(request))
    return _page(queryset, page)


@router.post("/transactions", response={201: TransactionOut})
def create_transaction(request: HttpRequest, body: TransactionIn):
    client = get_client(body.client_id)
    if body.kind == TransactionKind.CREDIT:
        sent = body.model_fields_set & {"method", "reference"}
        if sent:
            raise ValidationFailed([FieldError(f, "is not used for credit") for f in sorted(sent)])
        txn = payments.add_credit(client, amount=body.amount, currency=body.currency,
                                  actor=actor(request), note=body.note,
                                  principal=principal(request),
                                  idempotency_key=body.idempotency_key)  # fmt: skip
    else:
        txn = payments.record_payment(client, amount=body.amount, currency=body.currency,
                                      actor=actor(request), method=body.method or "manual",
                                      reference=body.reference or "", note=body.note,
                                      principal=principal(request),
                                      idempotency_key=body.idempotency_key)  # fmt: skip
    return Status(201, transaction_out(get_transaction(txn.pk)))


@router.get("/transactions/{transaction_id}", response=TransactionOut)
def read_transaction(request: HttpRequest, transaction_id: Id):
    return transaction_out(get_transaction(transaction_id))


@router.post("/transactions/{transaction_id}/apply", response=TransactionOut)
def apply_transaction(request: HttpRequest, transaction_id: Id, body: ApplyIn):
    """Apply part of a payment or credit to an open invoice of the same client and
    currency."""
    txn = get_transaction(transaction_id)
    invoice = referenced(get_invoice, "invoice_id", body.invoice_id)
    payments.apply(txn, invoice, body.amount, actor=actor(request))
    return transaction_out(get_transaction(transaction_id))


@router.post("/transactions/{transaction_id}/refund", response={201: TransactionOut})
def refund_transaction(request: HttpRequest, transaction_id: Id, body: RefundIn):
    """Give back part of a payment that is not applied (unapply it from invoices first). A
    card payment is refunded through its gateway; a refused refund is a 409."""
    refund = payments.refund(get_transaction(transaction_id), amount=body.amount,
                             actor=actor(request), reference=body.reference,
                             principal=principal(request),
                             idempotency_key=body.idempotency_key)  # fmt: skip
    return Status(201, transaction_out(get_transaction(refund.pk)))


@router.get("/clients/{client_id}/balance", response=BalanceList)
def client_balance(request: HttpRequest, client_id: Id):
    """Per currency: what the client's open invoices still ask (`due`) and the loose
    credit they have (`credit`)."""
    client = get_client(client_id)
    items = payments.balances([client.pk])[client.pk]
    return {"items": items, "count": len(items)}


@router.post("/clients/{client_id}/apply-credit", response=CreditApplied)
def apply_credit(request: HttpRequest, client_id: Id, body: ApplyCreditIn):
    """Apply the client's loose credit in `currency` to their open invoices, oldest due
    first; answers how much was applied."""
    client = get_client(client_id)
    applied = payments.apply_credit(client, body.currency, actor=actor(request))
    return {"currency": body.currency.upper(), "applied": applied}
