"""deliver_invoices: every issued invoice is delivered once, by the client's effective
`invoice_method` at the time of delivery, falling back to email when that method is no
longer in `delivery_methods`: email queues a message in the outbox, paper puts the invoice
in the print queue. The invoice records the method used."""

from datetime import date, datetime
from functools import partial
from typing import NamedTuple

from django.db import transaction

from groupbill import bulk_sql
from groupbill.automation.plan import Action
from groupbill.automation.view import CompanyView
from groupbill.billing import lock_objects
from groupbill.billing.models import Invoice, InvoiceStatus, invoice_label
from groupbill.notices import outbox
from groupbill.notices.events import invoice_message
from groupbill.notices.models import PrintJob

NAME = "deliver_invoices"


def method_for(view: CompanyView, client_id: int) -> str:
    settings = view.for_client(client_id)
    method = settings.value("invoice_method")
    return method if method in settings.value("delivery_methods") else "email"


def _undelivered(view: CompanyView):
    return Invoice.objects.filter(
        company=view.company,
        status__in=[InvoiceStatus.OPEN, InvoiceStatus.PAID],
        delivered_at__isnull=True,
    )


def due(view: CompanyView):
    return _undelivered(view).values("client_id")


class _Undelivered(NamedTuple):
    """What delivering an invoice reads of it (the names `invoice_context` uses)."""

    pk: int
    company_id: int
    client_id: int
    number: int
    currency: str
    total: int
    balance_due: int
    status: str
    issued_on: date
    due_on: date
    delivered_at: datetime | None


def _deliver(view: CompanyView, wanted: dict[int, tuple[str, list]]) -> dict[int, str]:
    """Deliver these invoices ({id: (method, recipients)}) not delivered yet, in bulk:
    emails queued, paper invoices in the print queue, the method recorded. Returns the
    method of each invoice delivered now."""
    with transaction.atomic():
        rows = lock_objects.invoice_rows(wanted, list(_Undelivered._fields))
        invoices = [i for i in map(_Undelivered._make, rows) if i.delivered_at is None]
        messages, jobs, delivered = [], [], {}
        for invoice in invoices:
            method, recipients = wanted[invoice.pk]
            if method == "paper":
                jobs.append({"invoice_id": invoice.pk})
            else:
                paid = invoice.status == InvoiceStatus.PAID
                messages.append(invoice_message(
                    invoice, key=f"invoice:{invoice.pk}:delivery", recipients=recipients,
                    template="invoice_paid" if paid else "invoice_unpaid",
                ))  # fmt: skip
            delivered[invoice.pk] = method
        outbox.queue_many(messages)
        bulk_sql.insert_values(PrintJob, jobs)  # one per invoice: those are locked, undelivered
        bulk_sql.update_values(Invoice, ["delivery_method", "delivered_at"],
                               [(m, view.as_of, pk) for pk, m in delivered.items()])  # fmt: skip
    return delivered


def _outcomes(view: CompanyView, wanted: list[tuple[int, tuple[str, list]]]) -> list:
    delivered = _deliver(view, dict(wanted))
    return [{"method": delivered[i]} if i in delivered else False for i, _ in wanted]


def _outcome(view: CompanyView, wanted: tuple[int, tuple[str, list]]):
    return _outcomes(view, [wanted])[0]


def apply_batch(view: CompanyView, actions: list[Action]) -> list:
    return _outcomes(view, [a.payload for a in actions])


def plan(view: CompanyView) -> list[Action]:
    pending = list(
        view.scoped(_undelivered(view))
        .order_by("pk")
        .values_list("pk", "client_id", "number", "total", "currency")
    )
    recipients = outbox.recipients_for(sorted({client_id for _, client_id, *_ in pending}))
    actions = []
    for pk, client_id, number, total, currency in pending:
        method = method_for(view, client_id)
        wanted = (pk, (method, recipients[client_id]))
        actions.append(
            Action(
                f"deliver:{pk}",
                f"Deliver {invoice_label(number, pk)} by {method}",
                partial(_outcome, view, wanted),
                client_id,
                total,
                currency,
                {"method": method},
                payload=wanted,
            )
        )
    return actions
