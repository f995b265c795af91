"""deliver_invoices: every issued invoice is delivered once, by the client's effective
`invoice_method` at the time of delivery, falling back to email when that method is no
longer in `delivery_methods`: email queues a message in the outbox, paper puts the invoice
in the print queue. The invoice records the method used."""

from django.db import transaction

from groupbill.automation.plan import Action
from groupbill.automation.tasks.common import client_groups
from groupbill.automation.view import CompanyView
from groupbill.billing import lock_objects
from groupbill.billing.models import Invoice, InvoiceStatus
from groupbill.notices import outbox
from groupbill.notices.events import queue_invoice_message
from groupbill.notices.models import PrintJob

NAME = "deliver_invoices"


def method_for(view: CompanyView, group_id: int, client_id: int) -> str:
    method = view.value("invoice_method", group_id, client_id)
    return method if method in view.value("delivery_methods", group_id) else "email"


def _undelivered(view: CompanyView):
    return Invoice.objects.filter(
        company=view.company,
        status__in=[InvoiceStatus.OPEN, InvoiceStatus.PAID],
        delivered_at__isnull=True,
    )


def due(view: CompanyView):
    return _undelivered(view).values("client_id")


def plan(view: CompanyView) -> list[Action]:
    groups = client_groups(view)
    pending = list(view.scoped(_undelivered(view)).order_by("pk"))
    recipients = outbox.recipients_for(sorted({i.client_id for i in pending}))

    def deliver(invoice_id: int, method: str):
        with transaction.atomic():
            [invoice] = lock_objects.invoices([invoice_id])
            if invoice.delivered_at is not None:
                return False
            if method == "paper":
                PrintJob.objects.get_or_create(invoice=invoice)
            else:
                paid = invoice.status == InvoiceStatus.PAID
                queue_invoice_message(
                    invoice,
                    key=f"invoice:{invoice.pk}:delivery",
                    template="invoice_paid" if paid else "invoice_unpaid",
                    recipients=recipients[invoice.client_id],
                )
            invoice.delivery_method = method
            invoice.delivered_at = view.as_of
            invoice.save(update_fields=["delivery_method", "delivered_at"])
        return {"method": method}

    actions = []
    for invoice in pending:
        method = method_for(view, groups[invoice.client_id], invoice.client_id)
        actions.append(
            Action(
                f"deliver:{invoice.pk}",
                f"Deliver {invoice} by {method}",
                lambda i=invoice.pk, m=method: deliver(i, m),
                invoice.client_id,
                invoice.total,
                invoice.currency,
                {"method": method},
            )
        )
    return actions
