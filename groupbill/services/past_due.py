"""What "past due" means for a service, defined once: a line of it, not credited, on an
open invoice whose due date has passed. Invoices of queued service changes do not count
(their own rule cancels them)."""

from datetime import date

from django.db.models import QuerySet

from groupbill.billing.models import InvoiceLine, InvoiceStatus
from groupbill.services.models import ChangeStatus, ServiceChange


def past_due_lines(today: date) -> QuerySet[InvoiceLine]:
    queued = ServiceChange.objects.filter(status=ChangeStatus.QUEUED, invoice__isnull=False)
    return InvoiceLine.objects.filter(
        invoice__status=InvoiceStatus.OPEN,
        invoice__due_on__lt=today,
        service__isnull=False,
        credit_line__isnull=True,
    ).exclude(invoice_id__in=queued.values("invoice_id"))


def past_due_service_ids(client_id: int, today: date) -> set[int]:
    lines = past_due_lines(today).filter(invoice__client_id=client_id)
    return set(lines.values_list("service_id", flat=True))
