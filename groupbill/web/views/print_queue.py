"""The paper print queue page and the PDF downloads (one invoice, or the whole queue)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from groupbill.billing.models import Invoice
from groupbill.notices import pdf, print_queue
from groupbill.web.views.common import actor, staff_required


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_required
def invoice_pdf(request, invoice_id: int):
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    name = f"invoice-{invoice.number}" if invoice.number else f"draft-{invoice.pk}"
    return _pdf_response(pdf.invoice_pdf(invoice), f"{name}.pdf")


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
    return _pdf_response(pdf.batch_pdf(invoices), "print-queue.pdf")
