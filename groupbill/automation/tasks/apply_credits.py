"""apply_credits: with `auto_apply_credits`, loose credit goes to open invoices, oldest due
date first, per currency."""

from functools import partial

from django.db.models import Exists, OuterRef

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE
from groupbill.automation.view import CompanyView
from groupbill.billing import ledger, payments
from groupbill.billing.models import (
    Invoice,
    InvoiceStatus,
    Transaction,
    TransactionStatus,
)
from groupbill.clients.models import Client
from groupbill.money import format_plain

NAME = "apply_credits"


def due(view: CompanyView):
    """Clients with an open invoice and a payment or credit not used up (applied or
    refunded) in full."""
    credit = ledger.with_credit_left(
        Transaction.objects.filter(client_id=OuterRef("client_id"), currency=OuterRef("currency"))
    )
    open_invoices = Invoice.objects.filter(company=view.company, status=InvoiceStatus.OPEN)
    return open_invoices.filter(Exists(credit)).values("client_id")


def _apply_credit(client_id: int, currency: str):
    client = Client.objects.get(pk=client_id)
    applied = payments.apply_credit(client, currency, actor=ENGINE)
    return {"amount": applied} if applied else False


def plan(view: CompanyView) -> list[Action]:
    open_invoices = view.scoped(
        Invoice.objects.filter(company=view.company, status=InvoiceStatus.OPEN)
    )
    open_pairs = set(open_invoices.values_list("client_id", "currency").distinct())
    if not open_pairs:
        return []
    funds = list(  # only the funds of clients with something open, not the whole history
        Transaction.objects.filter(
            company=view.company,
            client_id__in=open_invoices.values("client_id"),
            kind__in=ledger.FUNDS,
            status=TransactionStatus.APPROVED,
        ).values_list("pk", "client_id", "currency", "amount")
    )
    used = ledger.used_amounts([pk for pk, *_ in funds])
    credit: dict[tuple[int, str], int] = {}
    for pk, client_id, currency, amount in funds:
        left = amount - used.get(pk, 0)
        if left > 0:
            credit[(client_id, currency)] = credit.get((client_id, currency), 0) + left
    actions = []
    for (client_id, currency), amount in sorted(credit.items()):
        if (client_id, currency) not in open_pairs:
            continue
        if not view.for_client(client_id).value("auto_apply_credits"):
            continue
        actions.append(
            Action(
                f"credit:{client_id}:{currency}:{view.today}",
                f"Apply up to {format_plain(amount, currency)} {currency} of loose credit",
                partial(_apply_credit, client_id, currency),
                client_id,
                amount,
                currency,
            )
        )
    return actions
