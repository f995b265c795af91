"""apply_credits: with `auto_apply_credits`, loose credit goes to open invoices, oldest due
date first, per currency."""

from collections import defaultdict
from functools import partial

from django.db.models import Exists, F, OuterRef

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import ENGINE
from groupbill.automation.view import CompanyView
from groupbill.billing import ledger, payments
from groupbill.billing.models import (
    Invoice,
    InvoiceStatus,
    Transaction,
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
    # Credit left first, in SQL: few clients have any, and a shard's open invoices are
    # thousands on a renewal day.
    funds = ledger.with_credit_left(
        Transaction.objects.filter(
            company=view.company, client_id__in=open_invoices.values("client_id")
        )
    ).values_list("client_id", "currency", F("amount") - F("used"))
    credit: dict[tuple[int, str], int] = defaultdict(int)
    for client_id, currency, left in funds:
        credit[(client_id, currency)] += left
    if not credit:
        return []
    open_pairs = set(
        open_invoices.filter(client_id__one_of=sorted({c for c, _ in credit}))
        .values_list("client_id", "currency")
        .distinct()
    )
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
