"""The client's invoices (never drafts), their credit notes and PDF, and paying one."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from groupbill import money
from groupbill.billing import authentication, parties, taxes
from groupbill.billing.models import CreditNote, Invoice, InvoiceStatus, TransactionStatus
from groupbill.billing.payments import balances
from groupbill.errors import DomainError
from groupbill.portal import actions
from groupbill.portal.views.common import client_required, own
from groupbill.ui.downloads import credit_note_pdf_response, invoice_pdf_response
from groupbill.validation import parse_id


def _invoices():
    return Invoice.objects.exclude(status=InvoiceStatus.DRAFT)


@client_required
def invoice_list(request):
    invoices = _invoices().filter(client=request.client).order_by("-issued_on", "-pk")
    return render(request, "portal/invoices/list.html", {"invoices": invoices})


@client_required
def invoice_detail(request, invoice_id: int):
    invoice = own(_invoices(), request, invoice_id)
    seller, buyer = parties.of_invoice(invoice)
    lines = list(
        invoice.lines.order_by("position", "pk").select_related("credit_line__credit_note")
    )
    credit = next(
        (b.credit for b in balances([request.client.pk])[request.client.pk]
         if b.currency == invoice.currency),
        0,
    )  # fmt: skip
    return render(
        request,
        "portal/invoices/detail.html",
        {
            "invoice": invoice,
            "lines": lines,
            "seller": seller,
            "buyer": buyer,
            "tax_notes": taxes.notes_of(lines),
            "credit_notes": invoice.credit_notes.order_by("number"),
            "payments": invoice.applications.select_related(
                "transaction__payment_account"
            ).order_by("pk"),
            "accounts": request.client.payment_accounts.order_by("pk"),
            "credit": credit,
            "awaiting": authentication.awaiting(request.client.pk, invoice_id=invoice.pk),
        },
    )


@client_required
def invoice_pdf(request, invoice_id: int):
    return invoice_pdf_response(own(_invoices(), request, invoice_id))


@client_required
def credit_note_pdf(request, credit_note_id: int):
    return credit_note_pdf_response(own(CreditNote.objects.all(), request, credit_note_id))


@client_required
@require_POST
def invoice_pay(request, invoice_id: int):
    invoice = own(_invoices(), request, invoice_id)
    try:
        if request.POST.get("method") == "credit":
            actions.pay_with_credit(invoice, actor=request.actor)
            invoice.refresh_from_db()
            left = invoice.balance_due
            messages.success(request, f"Credit applied; {invoice} is paid." if not left else
                             f"Credit applied; {money.format_plain(left, invoice.currency)} "
                             f"{invoice.currency} is still due on {invoice}.")  # fmt: skip
        else:
            account = own(request.client.payment_accounts.all(), request,
                          parse_id(request.POST.get("account")) or 0)  # fmt: skip
            txn = actions.pay_with_account(invoice, account, actor=request.actor,
                                           principal=request.principal)  # fmt: skip
            if txn.status == TransactionStatus.APPROVED:
                messages.success(request, f"Payment approved; thank you. {invoice} is paid.")
            elif authentication.waits_for_card_holder(txn):
                return redirect("portal:payment_authenticate", attempt_id=txn.pk)
            elif txn.status == TransactionStatus.PENDING:
                messages.info(request, "Your payment is being processed; it shows here once "
                              "the card's bank confirms it.")  # fmt: skip
            else:
                messages.error(request, f"The payment was not taken: {txn.note or txn.status}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("portal:invoice_detail", invoice_id=invoice.pk)
