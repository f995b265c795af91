"""Money-side actions from a client's overview: notes, payment accounts, applying credit,
refunding a payment."""

from functools import partial
from zoneinfo import ZoneInfo

from django.shortcuts import get_object_or_404, redirect
from django.utils.timezone import localtime

from groupbill import money
from groupbill.billing import accounts, payments, recurring
from groupbill.billing.models import RecurringInvoice, Transaction, TransactionStatus
from groupbill.clients.models import Client
from groupbill.clients.notes import add_note
from groupbill.errors import ValidationFailed
from groupbill.money import format_plain
from groupbill.ui.posted import run_posted
from groupbill.validation import parse_id
from groupbill.web.views.common import actor, keyed_form, principal, staff_required


def _post_only(view):
    def wrapper(request, client_id: int):
        client = get_object_or_404(Client, pk=client_id)
        if request.method == "POST":
            run_posted(request, lambda: view(request, client))
        return redirect("web:client_detail", client_id=client.pk)

    return staff_required(wrapper)


@_post_only
def note_add(request, client: Client) -> str:
    add_note(client, request.POST.get("text", ""), actor=actor(request))
    return "Note added."


@_post_only
def account_add(request, client: Client) -> str:
    data = {k: request.POST.get(k, "") for k in ("kind", "gateway", "reference", "last4", "label")}
    data["is_autodebit"] = bool(request.POST.get("is_autodebit"))
    account = accounts.add_payment_account(client, data, actor=actor(request))
    return f"{account} added."


@_post_only
def apply_credit(request, client: Client) -> str:
    currency = request.POST.get("currency", "")
    applied = payments.apply_credit(client, currency, actor=actor(request))
    if not applied:
        return f"No {currency} credit could be applied."
    return f"{format_plain(applied, currency)} {currency} of credit applied to open invoices."


@_post_only
def recurring_add(request, client: Client) -> str:
    try:
        amount = money.parse(request.POST.get("unit_amount", ""), client.default_currency)
    except ValueError as exc:
        raise ValidationFailed.one("unit_amount", str(exc)) from None
    template = recurring.create_recurring(
        client,
        {"unit": request.POST.get("unit", ""), "start_on": request.POST.get("start_on", "")},
        [{"description": request.POST.get("description", ""), "unit_amount": amount}],
        actor=actor(request),
    )
    return f"Recurring invoice #{template.pk} created; the engine invoices each period."


@_post_only
def recurring_stop(request, client: Client) -> str:
    template = get_object_or_404(
        RecurringInvoice, pk=parse_id(request.POST.get("recurring")), client=client
    )
    recurring.deactivate(template, actor=actor(request))
    return f"Recurring invoice #{template.pk} stopped."


@_post_only
def refund(request, client: Client) -> str:
    """Give back part of one of the client's payments that no invoice holds. The form's key
    (new each time the page shows it) makes the same form sent twice one refund."""
    payment = get_object_or_404(
        Transaction, pk=parse_id(request.POST.get("transaction")), client=client
    )
    try:
        amount = money.parse(request.POST.get("amount", ""), payment.currency)
    except ValueError as exc:
        raise ValidationFailed.one("amount", str(exc)) from None
    posted = {k: request.POST.get(k, "") for k in ("reference", "idempotency_key")}
    made, now = keyed_form(
        partial(payments.make_refund, payment, amount=amount, actor=actor(request),
                principal=principal(request), **posted),
        undone="nothing was refunded", again="refund again",
    )  # fmt: skip
    told = f"{format_plain(made.amount, made.currency)} {made.currency}"
    if made.status == TransactionStatus.PENDING:
        said = f"Refund of {told} sent to the {payment.method} gateway; booked once it answers."
        return said if now else f"This refund was already sent. {said}"
    paid_on = localtime(payment.created_at, ZoneInfo(client.company.timezone))
    said = f"Refunded {told} of the payment of {paid_on:%Y-%m-%d}."
    return said if now else f"This refund was already made. {said}"
