"""The lists across clients: invoices (with bulk actions), payments, services. Filters
stay in the URL (GET), columns sort, pages page, `?format=csv` downloads the filtered list
(every page, streamed)."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from groupbill import money
from groupbill.billing import queries as billing_queries
from groupbill.billing.models import Invoice
from groupbill.catalog.models import PackagePrice
from groupbill.clients.queries import primary_contact
from groupbill.companies.roles import Action, company_ids_of, company_ids_where
from groupbill.errors import DomainError
from groupbill.notices import pdf, print_queue, reminders
from groupbill.services import queries as service_queries
from groupbill.ui.downloads import pdf_response
from groupbill.web.list_forms import (
    InvoiceFilterForm,
    ServiceFilterForm,
    TransactionFilterForm,
    csv_response,
    iso,
)
from groupbill.web.views.common import actor, of_my_companies, staff_required

CSV_CHUNK = 1000


def _name(client) -> str:
    contact = primary_contact(client)
    return contact.display_name if contact else ""


def _company(client) -> str:
    contact = primary_contact(client)
    return contact.company if contact else ""


def _context(form, page, **more) -> dict:
    return {"form": form, "page": page, "sort": form.sort, "problems": form.problems(), **more}


@staff_required
def invoice_list(request):
    mine = company_ids_of(request.user)
    form = InvoiceFilterForm(request.GET, billing_queries.currencies(mine), mine)
    invoices = of_my_companies(request, billing_queries.invoice_list(form.filters(), form.sort))
    if request.GET.get("format") == "csv":
        return _invoices_csv(invoices)
    page = form.page(invoices, request.GET.get("page"))
    return render(request, "web/lists/invoices.html", _context(
        form, page, pdf_limit=pdf.BATCH_LIMIT, remind_limit=reminders.MAX_INVOICES))  # fmt: skip


def _invoices_csv(invoices):
    header = ["invoice", "number", "client_id", "client", "company", "group", "status", "overdue",
              "issued_on", "due_on", "currency", "total", "paid", "balance_due"]  # fmt: skip

    def row(i):
        c = i.currency
        return [i.pk, i.number or "", i.client_id, _name(i.client), _company(i.client),
                i.client.group.name, i.status, "yes" if i.is_overdue else "", iso(i.issued_on),
                iso(i.due_on), c, money.format_plain(i.total, c),
                money.format_plain(i.amount_paid, c), money.format_plain(i.balance, c)]  # fmt: skip

    return csv_response("invoices.csv", header, invoices.iterator(chunk_size=CSV_CHUNK), row)


def _back(request) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}) and target.startswith("/"):
        return target
    return "/invoices/"


def _numbers(invoices) -> str:
    names = [str(i) for i in invoices[:10]]
    more = f" and {len(invoices) - 10} more" if len(invoices) > 10 else ""
    return ", ".join(names) + more


@staff_required
def invoice_bulk(request):
    """The list's bulk actions on the ticked invoices: remind now, download their PDFs (at
    most pdf.BATCH_LIMIT), mark printed and mailed."""
    back = HttpResponseRedirect(_back(request))
    if request.method != "POST":
        return back
    action = request.POST.get("action")
    ids = _mine(request, action, {int(v) for v in request.POST.getlist("invoice") if v.isdigit()})
    if not ids:
        messages.error(request, "Tick the invoices first.")
        return back
    try:
        if action == "pdf":
            chosen = billing_queries.invoice_list(billing_queries.InvoiceFilter(), "id")
            data = pdf.batch_pdf(list(chosen.filter(pk__in=ids)))
            return pdf_response(data, f"invoices-{len(ids)}.pdf")
        if action == "remind":
            _reminded(request, reminders.send_reminders(ids, actor=actor(request)))
        elif action == "printed":
            marked = print_queue.mark_invoices_printed(ids, actor=actor(request))
            left = len(ids) - len(marked)
            rest = f"; {left} were not waiting in the print queue." if left else "."
            messages.success(request, f"{len(marked)} invoice(s) marked printed and mailed{rest}")
        else:
            messages.error(request, "Choose what to do with the ticked invoices.")
    except DomainError as exc:
        for said in [e.message for e in exc.errors] or [exc.message]:
            messages.error(request, f"Nothing done: {said}.")
    return back


def _mine(request, action, ids: set[int]) -> list[int]:
    """The ticked invoices the user may act on: of their companies (where they may bill,
    unless only downloading); another company's are left out as unknown ids are."""
    need = Action.READ if action == "pdf" else Action.BILL
    allowed = company_ids_where(request.user, need)
    if allowed is not None:
        ids = set(
            Invoice.objects.filter(pk__in=ids, company_id__in=allowed).values_list("pk", flat=True)
        )
    return sorted(ids)


def _reminded(request, done: reminders.Reminded) -> None:
    if done.queued:
        messages.success(request, f"Reminder queued for {len(done.queued)} invoice(s): "
                         f"{_numbers(done.queued)}.")  # fmt: skip
    for invoices, why in (
        (done.already, "already reminded today"),
        (done.not_open, "not open (draft, paid or void)"),
        (done.no_recipient, "the client has no contact with an email address"),
    ):
        if invoices:
            messages.warning(request, f"No reminder for {_numbers(invoices)}: {why}.")


@staff_required
def transaction_list(request):
    mine = company_ids_of(request.user)
    form = TransactionFilterForm(request.GET, billing_queries.currencies(mine), mine)
    txns = of_my_companies(request, billing_queries.transaction_list(form.filters(), form.sort))
    if request.GET.get("format") == "csv":
        return _transactions_csv(txns)
    page = form.page(txns, request.GET.get("page"))
    return render(request, "web/lists/transactions.html", _context(form, page))


def _transactions_csv(txns):
    header = ["transaction", "created_at", "client_id", "client", "kind", "status",
              "gateway", "reference", "currency", "amount", "invoices"]  # fmt: skip

    def row(t):
        invoices = " ".join(str(a.invoice.number or f"draft-{a.invoice_id}")
                            for a in t.applications.all())  # fmt: skip
        return [t.pk, t.created_at.isoformat(), t.client_id, _name(t.client), t.kind, t.status,
                t.method, t.reference, t.currency, money.format_plain(t.amount, t.currency),
                invoices]  # fmt: skip

    return csv_response("payments.csv", header, txns.iterator(chunk_size=CSV_CHUNK), row)


@staff_required
def service_list(request):
    mine = company_ids_of(request.user)
    prices = PackagePrice.objects.order_by("currency")
    if mine is not None:
        prices = prices.filter(package__company_id__in=mine)
    currencies = list(prices.values_list("currency", flat=True).distinct())
    form = ServiceFilterForm(request.GET, currencies, mine)
    services = service_queries.service_list(form.filters(), form.sort)
    services = of_my_companies(request, services, "client__company_id")
    if request.GET.get("format") == "csv":
        return _services_csv(services)
    page = form.page(services, request.GET.get("page"))
    return render(request, "web/lists/services.html", _context(form, page))


def _services_csv(services):
    header = ["service", "package", "client_id", "client", "group", "status", "quantity",
              "term", "currency", "price", "renews_on"]  # fmt: skip

    def row(s):
        p = s.pricing
        return [s.pk, s.package.name, s.client_id, _name(s.client), s.client.group.name,
                s.status, s.quantity, p.term_label(), p.currency,
                money.format_plain(p.price, p.currency), iso(s.renew_date)]  # fmt: skip

    return csv_response("services.csv", header, services.iterator(chunk_size=CSV_CHUNK), row)
