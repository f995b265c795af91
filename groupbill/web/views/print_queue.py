"""The paper print queue page, paged, and the PDF downloads (one invoice, or a page of the
queue: as many as one PDF holds)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render

from groupbill.billing.models import CreditNote, Invoice
from groupbill.clients.models import Contact, ContactRole
from groupbill.companies.roles import Action, company_ids_of, company_ids_where
from groupbill.notices import pdf, print_queue
from groupbill.ui.downloads import credit_note_pdf_response, invoice_pdf_response, pdf_response
from groupbill.web.views.common import actor, staff_required


@staff_required
def invoice_pdf(request, invoice_id: int):
    return invoice_pdf_response(get_object_or_404(Invoice, pk=invoice_id))


@staff_required
def credit_note_pdf(request, credit_note_id: int):
    return credit_note_pdf_response(get_object_or_404(CreditNote, pk=credit_note_id))


@staff_required
def print_queue_page(request):
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("job") if v.isdigit()]
        # Only jobs of companies where the user may bill; another's are as unknown ids.
        mine = print_queue.queued(company_ids_where(request.user, Action.BILL))
        ids = list(mine.filter(pk__in=ids).values_list("pk", flat=True))
        if not ids:
            messages.error(request, "Select the invoices you printed and mailed.")
        else:
            marked = print_queue.mark_printed(ids, actor=actor(request))
            messages.success(request, f"{len(marked)} invoice(s) marked printed and mailed.")
        return redirect("web:print_queue")
    page = _page(request)
    return render(request, "web/print_queue.html",
                  {"jobs": page, "page": page, "per_page": pdf.BATCH_LIMIT})  # fmt: skip


def _page(request):
    """A page of the user's companies' queue, oldest first: as many jobs as one PDF
    holds."""
    jobs = print_queue.queued(company_ids_of(request.user)).prefetch_related(
        Prefetch("invoice__client__contacts",
                 queryset=Contact.objects.filter(role=ContactRole.PRIMARY),
                 to_attr="primary_contacts")
    )  # fmt: skip
    return Paginator(jobs, pdf.BATCH_LIMIT).get_page(request.GET.get("page"))


@staff_required
def print_queue_pdf(request):
    """One page of the queue (`?page=`, the first by default) in one PDF, in queue order:
    at most pdf.BATCH_LIMIT invoices, the page's own."""
    page = _page(request)
    name = "print-queue.pdf" if page.number == 1 else f"print-queue-{page.number}.pdf"
    return pdf_response(pdf.batch_pdf([job.invoice for job in page]), name)
