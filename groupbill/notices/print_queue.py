"""The paper print queue: `deliver_invoices` puts an invoice whose delivery method is
`paper` here; staff download the queue as one PDF, print and post it, then mark the jobs
printed (which takes them off the queue)."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from groupbill.audit.actions import record
from groupbill.notices.models import PrintJob, PrintStatus


def queued(company_ids: list[int] | None = None) -> QuerySet[PrintJob]:
    """Jobs waiting to be printed, oldest first, with their invoice and client; of these
    companies only (None: every company)."""
    jobs = PrintJob.objects.filter(status=PrintStatus.QUEUED)
    if company_ids is not None:
        jobs = jobs.filter(invoice__company_id__in=company_ids)
    return jobs.select_related("invoice", "invoice__client", "invoice__company").order_by("pk")


def queued_invoices(job_ids: Iterable[int] | None = None):
    """The invoices of queued jobs (all, or these), in queue order."""
    jobs = queued()
    if job_ids is not None:
        jobs = jobs.filter(pk__in=list(job_ids))
    return [job.invoice for job in jobs]


def mark_invoices_printed(invoice_ids: Iterable[int], *, actor: str) -> list[PrintJob]:
    """`mark_printed` for the queued jobs of these invoices (from the invoice list); an
    invoice not on the queue, or printed already, is left as it is."""
    jobs = PrintJob.objects.filter(invoice_id__in=list(invoice_ids))
    return mark_printed(list(jobs.values_list("pk", flat=True)), actor=actor)


def mark_printed(jobs: Iterable[PrintJob | int], *, actor: str) -> list[PrintJob]:
    """Mark the jobs printed and mailed. A job already printed is left as it was (marking
    twice, or two staff at once, changes and audits nothing more). Returns the jobs this
    call marked."""
    ids = sorted({job if isinstance(job, int) else job.pk for job in jobs})
    now = timezone.now()
    with transaction.atomic():
        marked = list(
            PrintJob.objects.select_for_update()
            .filter(pk__in=ids, status=PrintStatus.QUEUED)
            .select_related("invoice")
            .order_by("pk")
        )
        for job in marked:
            job.status = PrintStatus.PRINTED
            job.printed_at = now
            job.printed_by = actor[:128]
            job.save(update_fields=["status", "printed_at", "printed_by"])
            record(
                subject=job.invoice,
                actor=actor,
                action="invoice.printed",
                old={"value": PrintStatus.QUEUED},
                new={"value": PrintStatus.PRINTED},
            )
    return marked
