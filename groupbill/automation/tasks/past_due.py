"""Which services have an open invoice past due, and since when: one query per company.
Invoices of queued service changes do not count (their own rule cancels them)."""

from datetime import date

from groupbill.automation.view import CompanyView
from groupbill.billing.models import InvoiceLine, InvoiceStatus
from groupbill.services.models import ChangeStatus, ServiceChange


def oldest_past_due(view: CompanyView) -> dict[int, tuple[date, int, int]]:
    """service id -> (due date, invoice number, invoice id) of its oldest past-due open
    invoice, for the view's clients."""
    queued = ServiceChange.objects.filter(status=ChangeStatus.QUEUED, invoice__isnull=False)
    lines = InvoiceLine.objects.filter(
        invoice__company=view.company,
        invoice__status=InvoiceStatus.OPEN,
        invoice__due_on__lt=view.today,
        service__isnull=False,
    )
    rows = (
        view.scoped(lines, "invoice__client_id")
        .exclude(invoice_id__in=queued.values("invoice_id"))
        .values_list("service_id", "invoice__due_on", "invoice__number", "invoice_id")
    )
    out: dict[int, tuple[date, int, int]] = {}
    for service_id, due_on, number, invoice_id in rows:
        if service_id not in out or due_on < out[service_id][0]:
            out[service_id] = (due_on, number, invoice_id)
    return out
