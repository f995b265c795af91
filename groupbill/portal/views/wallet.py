"""Saved payment methods: add a card and choose the auto-debit one. With Stripe configured
(a publishable key too) a card is added in Stripe's own form (Elements): the page confirms a
SetupIntent in the browser and posts its id back, and the number never reaches Groupbill;
otherwise through the test gateway's form."""

from datetime import date

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from groupbill.billing import card_setup
from groupbill.errors import DomainError
from groupbill.portal import actions
from groupbill.portal.stripe_js import allowing_stripe
from groupbill.portal.views.common import client_required, own
from groupbill.ui.posted import run_posted


def _expiry(value: str) -> date | None:
    """ "MM/YY" or "YYYY-MM" -> the last day that month is valid; None if not given."""
    value = value.strip()
    if not value:
        return None
    try:
        if "/" in value:
            month, year = (int(p) for p in value.split("/"))
            year += 2000 if year < 100 else 0
        else:
            year, month = (int(p) for p in value.split("-")[:2])
        if not 1 <= month <= 12:
            raise ValueError(month)
        nxt = date(year + month // 12, month % 12 + 1, 1)
    except ValueError:
        raise ValueError("Enter the expiry as MM/YY.") from None
    return date.fromordinal(nxt.toordinal() - 1)


def _page(request, form=None, errors=None, status=200):
    return render(
        request,
        "portal/wallet/list.html",
        {
            "accounts": request.client.payment_accounts.order_by("pk"),
            "form": form or {},
            "errors": errors or {},
            "stripe": card_setup.available(),
        },
        status=status,
    )


def _stripe_form(request, error: str = "", status: int = 200):
    """The card form, with a new SetupIntent for it (one cannot be confirmed twice)."""
    try:
        setup = card_setup.begin(request.client)
    except DomainError as exc:
        messages.error(request, f"The card form cannot be shown now: {exc.message}")
        return redirect("portal:account_list")
    response = render(request, "portal/wallet/add_stripe.html",
                      {"setup": setup, "error": error}, status=status)  # fmt: skip
    return allowing_stripe(response, setup.js_url)


@client_required
def account_list(request):
    return _page(request)


@sensitive_post_parameters("number")
@client_required
@require_http_methods(["GET", "POST"])
def account_add(request):
    if card_setup.available():
        if request.method == "POST":  # a number typed into our own form: never with Stripe
            return _stripe_form(request, "Enter the card in this form.", 400)
        return _stripe_form(request)
    if request.method == "GET":
        return redirect("portal:account_list")
    form = {k: request.POST.get(k, "") for k in ("label", "expiry")}
    try:
        expires_on = _expiry(request.POST.get("expiry", ""))
    except ValueError as exc:
        return _page(request, form, {"expiry": str(exc)}, 400)
    try:
        account = actions.add_card(
            request.client,
            {
                "number": request.POST.get("number", ""),
                "label": form["label"],
                "expires_on": expires_on.isoformat() if expires_on else None,
                "is_autodebit": request.POST.get("is_autodebit") == "on",
            },
            actor=request.actor,
        )
    except DomainError as exc:
        errors = {e.field: e.message for e in exc.errors} or {"number": exc.message}
        return _page(request, form, errors, 400)
    messages.success(request, f"{account} added.")
    return redirect("portal:account_list")


@client_required
@require_POST
def account_add_stripe(request):
    """The SetupIntent the card form confirmed: its card becomes a payment account (only a
    SetupIntent made for this client's Stripe customer is taken)."""
    if not card_setup.available():
        messages.error(request, "Cards cannot be added with the card form now.")
        return redirect("portal:account_list")
    try:
        account = card_setup.save(
            request.client,
            request.POST.get("setup_intent", ""),
            actor=request.actor,
            is_autodebit=request.POST.get("is_autodebit") == "on",
        )
    except DomainError as exc:
        what = {"setup_intent": "the card setup ", "reference": "the card "}
        reason = "; ".join(what.get(e.field, "") + e.message for e in exc.errors)
        return _stripe_form(request, f"The card was not saved: {reason or exc.message}", 400)
    messages.success(request, f"{account} added.")
    return redirect("portal:account_list")


@client_required
@require_POST
def account_autodebit(request, account_id: int):
    account = own(request.client.payment_accounts.all(), request, account_id)

    def choose() -> str:
        actions.choose_autodebit(account, actor=request.actor)
        return f"{account} is now charged automatically for your invoices."

    run_posted(request, choose)
    return redirect("portal:account_list")


@client_required
@require_POST
def account_remove(request, account_id: int):
    account = own(request.client.payment_accounts.all(), request, account_id)
    was_autodebit = account.is_autodebit

    def remove() -> str:
        name = actions.remove_account(account, actor=request.actor)
        if was_autodebit:
            return (f"{name} removed. Invoices are no longer paid automatically; "
                    "choose another card for that.")  # fmt: skip
        return f"{name} removed."

    run_posted(request, remove)
    return redirect("portal:account_list")
