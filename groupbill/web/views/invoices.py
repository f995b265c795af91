"""The invoice page: lines (credited ones marked), taxes, totals, payments, credit notes;
issue, pay, void (an issued invoice through a credit note), edit a draft's lines."""

import secrets
from functools import partial

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from groupbill import money
from groupbill.billing import charges, invoices, payments
from groupbill.billing.models import Invoice, InvoiceStatus, PaymentAccount, TransactionStatus
from groupbill.clients.models import Client
from groupbill.clients.queries import get_client
from groupbill.companies.queries import company_today
from groupbill.errors import DomainError, ValidationFailed
from groupbill.ui.posted import run_posted
from groupbill.validation import parse_id
from groupbill.web.views.common import actor, keyed_form, principal, staff_required


def _amount(request, currency: str, field: str = "amount") -> int:
    try:
        return money.parse(request.POST.get(field, ""), currency)
    except ValueError as exc:
        raise ValidationFailed.one(field, str(exc)) from None


def _credit_note_ids(invoice: Invoice) -> list[int]:
    return list(invoice.credit_notes.values_list("pk", flat=True))


def _act(request, invoice: Invoice) -> str:
    """Carry out the posted action; returns the message to show."""
    who = actor(request)
    action = request.POST.get("action")
    today = company_today(invoice.company)
    if action == "issue":
        invoices.issue_invoice(invoice, issued_on=today, actor=who)
        invoice.refresh_from_db()
        return f"Issued as invoice {invoice.number}."
    if action == "void":
        before = _credit_note_ids(invoice)
        invoices.void_invoice(invoice, actor=who, reason=request.POST.get("reason", ""))
        note = invoice.credit_notes.exclude(pk__in=before).first()
        credited = f" {note} credits it." if note else ""
        return f"Invoice voided; payments on it are now loose credit.{credited}"
    if action == "pay":
        return _pay(request, invoice)
    if action == "charge":
        account = get_object_or_404(PaymentAccount, pk=parse_id(request.POST.get("account")),
                                    client_id=invoice.client_id)  # fmt: skip
        key = f"staff-charge:{invoice.pk}:{request.POST.get('nonce', '')}"
        txn = charges.pay_with_account(invoice, account, actor=who, principal=principal(request),
                                       key=key)  # fmt: skip
        if txn.status == TransactionStatus.PENDING:
            return (f"Charge of {account} sent; the gateway has not answered yet. It is "
                    "booked when it does, at the latest on the engine's next run.")  # fmt: skip
        return f"Charge of {account}: {txn.status}."
    if action == "unapply":
        taken = payments.unapply(invoice, actor=who)
        return f"{money.format_plain(taken, invoice.currency)} {invoice.currency} unapplied."
    if action == "add_line":
        unit_amount = _amount(request, invoice.currency, "unit_amount")
        line = {"description": request.POST.get("description", ""), "unit_amount": unit_amount}
        invoices.add_lines(invoice, invoices.clean_lines([line]), actor=who)
        return "Line added."
    if action == "remove_line":
        if invoice.status != InvoiceStatus.DRAFT:
            raise ValidationFailed.one(
                "line", "an issued invoice keeps its lines: void it and issue a corrected one"
            )
        line_id = parse_id(request.POST.get("line"))
        if line_id is None:
            raise ValidationFailed.one("line", "choose a line to remove")
        invoices.remove_lines(invoice, [line_id], actor=who)
        return "Line removed."
    raise ValidationFailed.one("action", "unknown action")


def _pay(request, invoice: Invoice) -> str:
    """Record a payment received by hand. The form's key (new each time the page shows it)
    makes the same form sent twice one payment."""
    amount = _amount(request, invoice.currency)
    posted = {k: request.POST.get(k, "") for k in ("reference", "idempotency_key")}
    txn, now = keyed_form(
        partial(payments.make_invoice_payment, invoice, amount=amount, actor=actor(request),
                principal=principal(request), **posted),
        undone="nothing was recorded", again="record another payment",
    )  # fmt: skip
    said = f"Payment #{txn.pk} recorded."
    return said if now else f"This payment was already recorded. {said}"


def _delete_draft(request, invoice: Invoice) -> str:
    invoices.delete_draft(invoice, actor=actor(request))
    return "Draft deleted."


@staff_required
def invoice_detail(request, invoice_id: int):
    invoice = get_object_or_404(Invoice.objects.select_related("client", "company"), pk=invoice_id)
    client = get_client(invoice.client_id)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            if run_posted(request, lambda: _delete_draft(request, invoice)):
                return redirect("web:client_detail", client_id=invoice.client_id)
            return redirect("web:invoice_detail", invoice_id=invoice.pk)
        run_posted(request, lambda: _act(request, invoice))
        return redirect("web:invoice_detail", invoice_id=invoice.pk)
    invoice.refresh_from_db()
    return render(
        request,
        "web/invoices/detail.html",
        {
            "invoice": invoice,
            "client": client,
            "lines": invoice.lines.select_related("service", "credit_line__credit_note"),
            "applications": invoice.applications.select_related("transaction"),
            "credit_notes": invoice.credit_notes.order_by("number"),
            "accounts": invoice.client.payment_accounts.all(),
            "unsettled": charges.pending_attempts(invoice_id=invoice.pk),
            "editable": invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN),
            # An issued invoice's lines stay as issued on its page: correct it by voiding.
            "removable": invoice.status == InvoiceStatus.DRAFT,
            # A new key for each try: the same form sent twice is one charge, a try after
            # a decline is a new one.
            "nonce": invoice.charge_targets.count(),
            # Each Record payment form shown gets its own key: sent twice, it records once.
            "pay_key": secrets.token_urlsafe(16),
        },
    )


@staff_required
def invoice_new(request, client_id: int):
    """A draft with a first line; more lines and issuing happen on the invoice page."""
    client = get_object_or_404(Client, pk=client_id)
    if request.method == "POST":
        currency = request.POST.get("currency") or client.default_currency
        try:
            amount = _amount(request, currency, "unit_amount")
            lines = invoices.clean_lines(
                [{"description": request.POST.get("description", ""), "unit_amount": amount}]
            )
            invoice = invoices.create_invoice(client, lines, actor=actor(request),
                                              currency=currency)  # fmt: skip
        except (DomainError, KeyError) as exc:
            messages.error(request, getattr(exc, "message", "Unknown currency."))
            return redirect("web:client_detail", client_id=client.pk)
        messages.success(request, "Draft invoice created.")
        return redirect("web:invoice_detail", invoice_id=invoice.pk)
    return redirect("web:client_detail", client_id=client.pk)
