"""A payment that waits for the card holder (3-D Secure): the page the client's message
links to. It loads Stripe.js, which shows the bank's check for the PaymentIntent; the
outcome is booked when Stripe's webhook reports it, and the page then leads back to the
invoice."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from groupbill import money
from groupbill.billing import authentication
from groupbill.billing.models import TransactionStatus
from groupbill.errors import DomainError
from groupbill.portal.stripe_js import allowing_stripe
from groupbill.portal.views.common import client_required

REFRESH_SECONDS = 3


@client_required
def payment_authenticate(request, attempt_id: int):
    txn = authentication.payment_of(request.client.pk, attempt_id)
    if txn is None:
        raise Http404("No such payment.")
    target = txn.targets.select_related("invoice").order_by("pk").first()
    invoice = target.invoice if target is not None else None
    amount = f"{money.format_plain(txn.amount, txn.currency)} {txn.currency}"
    if txn.status != TransactionStatus.PENDING:
        if txn.status == TransactionStatus.APPROVED:
            messages.success(request, f"Your payment of {amount} was received. Thank you.")
        else:
            messages.error(request, f"Your payment of {amount} was not taken: "
                           f"{txn.note or txn.status}.")  # fmt: skip
        if invoice is not None:
            return redirect("portal:invoice_detail", invoice_id=invoice.pk)
        return redirect("portal:invoice_list")
    context = {"txn": txn, "invoice": invoice, "refresh": REFRESH_SECONDS}
    try:
        action = authentication.payment_action(txn)
    except DomainError as exc:
        context["error"] = exc.message
        return render(request, "portal/payments/authenticate.html", context, status=409)
    context["action"] = action
    response = render(request, "portal/payments/authenticate.html", context)
    if action.status == "requires_action":
        return allowing_stripe(response, action.js_url)
    response.headers["Cache-Control"] = "no-store"
    return response
