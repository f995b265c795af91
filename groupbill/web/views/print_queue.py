"""The paper print queue page and the PDF downloads (one invoice, or the whole queue)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from groupbill.billing.models import Invoice
from groupbill.notices import pdf, print_queue
from groupbill.ui.downloads import invoice_pdf_response, pdf_response
from groupbill.web.views.common import actor, staff_required


@staff_required
def invoice_pdf(request, invoice_id: int):
    return invoice_pdf_response(get_object_or_404(Invoice, pk=invoice_id))


@staff_required
def print_queue_page(request):
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("job") if v.isdigit()]
        if not ids:
            messages.error(request, "Select the invoices you printed and mailed.")
        else:
            marked = print_queue.mark_printed(ids, actor=actor(request))
            messages.success(request, f"{len(marked)} invoice(s) marked printed and mailed.")
        return redirect("web:print_queue")
    jobs = print_queue.queued().prefetch_related("invoice__client__contacts")
    return render(request, "web/print_queue.html", {"jobs": jobs})


@staff_required
def print_queue_pdf(request):
    """Every queued invoice in one PDF, in queue order (the order of the page)."""
    invoices = [job.invoice for job in print_queue.queued()]
    return pdf_response(pdf.batch_pdf(invoices), "print-queue.pdf")
