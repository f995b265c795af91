"""What a client does in the portal. Each action checks the client's effective settings
here, on the server, whatever the page showed, then calls the same action staff use."""

from datetime import date
from typing import Any

from django.db import transaction

from groupbill.billing import charges, payments
from groupbill.billing.accounts import add_payment_account, remove_payment_account, set_autodebit
from groupbill.billing.gateways.sandbox import tokenize
from groupbill.billing.models import (
    Invoice,
    InvoiceStatus,
    PaymentAccount,
    Transaction,
    TransactionStatus,
)
from groupbill.catalog.models import PackagePrice
from groupbill.clients import actions as clients
from groupbill.clients.models import Client, Contact, ContactRole
from groupbill.companies.queries import company_today
from groupbill.errors import Conflict, FieldError, Forbidden, ValidationFailed
from groupbill.portal import queries
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceChange
from groupbill.settings_catalog.actions import set_client_setting
from groupbill.settings_catalog.effective import ClientSettings
from groupbill.validation import optional_date

# Setting that allows each gated action, and what a refused client is told.
GATES = {
    "cancel": ("client_can_cancel_services", "cancel services online"),
    "change_term": ("client_can_change_term", "change the billing term of services online"),
    "change_package": ("client_can_change_package", "change packages online"),
    "order_addon": ("client_can_create_addons", "order addons online"),
    "invoice_method": ("client_can_set_invoice_method", "choose how invoices are delivered"),
    "tax_id": ("show_tax_id_field", "edit the Tax ID online"),
}


def allowed(client: Client, gate: str, settings: ClientSettings | None = None) -> bool:
    """Whether the client's settings (read when not given) allow the gated action."""
    key, _ = GATES[gate]
    if settings is None:
        settings = ClientSettings.of(client.pk)
    return bool(settings.value(key))


def require(client: Client, gate: str, settings: ClientSettings | None = None) -> None:
    if not allowed(client, gate, settings):
        raise Forbidden(
            f"Your account does not allow you to {GATES[gate][1]}. Please contact us to do it."
        )


# --- Services ----------------------------------------------------------------------------


def cancel_service(client: Client, service: Service, *, when: str, today: date, actor: str,
                   reason: str = "") -> Service:  # fmt: skip
    require(client, "cancel")
    return services.cancel(service, actor=actor, today=today, when=when,
                           reason=reason or "cancelled by the client")  # fmt: skip


def _chosen(pricing_id: int | None, choices) -> PackagePrice:
    pricing = choices.filter(pk=pricing_id).first() if pricing_id else None
    if pricing is None:
        raise ValidationFailed.one("pricing", "Choose one of the offered options.")
    return pricing


def change_term(client: Client, service: Service, *, pricing_id: int | None, today: date,
                actor: str) -> ServiceChange:  # fmt: skip
    require(client, "change_term")
    pricing = _chosen(pricing_id, queries.term_choices(service))
    return services.change_service(service, actor=actor, today=today, pricing=pricing)


def change_package(client: Client, service: Service, *, pricing_id: int | None, today: date,
                   actor: str) -> ServiceChange:  # fmt: skip
    require(client, "change_package")
    pricing = _chosen(pricing_id, queries.package_choices(service))
    # The old package's options do not exist on the new one.
    return services.change_service(service, actor=actor, today=today, pricing=pricing, options={})


def order_addon(client: Client, service: Service, *, pricing_id: int | None, today: date,
                actor: str) -> Service:  # fmt: skip
    require(client, "order_addon")
    if service.status not in ("active", "suspended"):
        raise Conflict(f"{service} is {service.status}; addons are ordered for active services.")
    pricing = _chosen(pricing_id, queries.addon_choices(service))
    return services.add_service(client, pricing=pricing, start_on=today, actor=actor,
                                parent=service)  # fmt: skip


# --- Money -------------------------------------------------------------------------------


def pay_with_account(
    invoice: Invoice, account: PaymentAccount, *, actor: str, principal: str
) -> Transaction:
    """Charge the invoice's balance to a saved account. The charge is keyed by what is being
    paid (invoice, account, what was paid and credited so far, earlier failed tries), so the
    same payment sent twice (a double click, a second tab) charges once, and a retry after a
    decline, or after a credit note changed what is due, is a new attempt."""
    failed = Transaction.objects.filter(
        idempotency_key__startswith=f"portal-pay:{invoice.pk}:",
        status__in=[TransactionStatus.DECLINED, TransactionStatus.ERROR],
    ).count()
    paid = f"{invoice.amount_paid}:{invoice.credited}"
    key = f"portal-pay:{invoice.pk}:{account.pk}:{paid}:{failed}"
    return charges.pay_with_account(invoice, account, actor=actor, principal=principal, key=key)


def pay_with_credit(invoice: Invoice, *, actor: str) -> int:
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(f"{invoice} is {invoice.status}; nothing to pay.")
    applied = payments.apply_credit(invoice.client, invoice.currency, actor=actor,
                                    invoice_ids=[invoice.pk])  # fmt: skip
    if not applied:
        raise Conflict(f"You have no {invoice.currency} credit to apply.")
    return applied


def add_card(client: Client, data: dict[str, Any], *, actor: str) -> PaymentAccount:
    """Add a card through the test gateway: the number is exchanged for a token at once and
    never stored."""
    try:
        reference, last4 = tokenize(data.get("number"))
    except ValueError as exc:
        raise ValidationFailed.one("number", str(exc)) from None
    try:
        expires_on = optional_date(data.get("expires_on"))
    except ValueError as exc:
        raise ValidationFailed.one("expires_on", str(exc)) from None
    if expires_on and expires_on < company_today(client.company):
        raise ValidationFailed.one("expires_on", "This card has expired.")
    return add_payment_account(
        client,
        {
            "kind": "card",
            "gateway": "test",
            "reference": reference,
            "last4": last4,
            "label": data.get("label") or "",
            "expires_on": expires_on,
            "is_autodebit": bool(data.get("is_autodebit")),
        },
        actor=actor,
    )


def choose_autodebit(account: PaymentAccount, *, actor: str) -> PaymentAccount:
    """Only staff re-enable an account that automation disabled after declined charges."""
    if account.autodebit_disabled:
        raise Conflict(f"{account} was disabled for automatic payment ({account.disabled_reason}); "
                       "add another card, or contact us.")  # fmt: skip
    return set_autodebit(account, actor=actor)


def remove_account(account: PaymentAccount, *, actor: str) -> str:
    """A client removes a saved card; removing the one used for automatic payment leaves
    the client paying by hand until they choose another. Returns what it was, to say so."""
    name = str(account)
    remove_payment_account(account, actor=actor)
    return name


# --- Contacts and profile ----------------------------------------------------------------


def add_contact(client: Client, data: dict[str, Any], *, actor: str) -> Contact:
    """Clients add billing or other contacts; the primary contact is the account holder."""
    role = data.get("role") or ContactRole.OTHER
    if role not in (ContactRole.BILLING, ContactRole.OTHER):
        raise ValidationFailed.one("role", "must be billing or other")
    return clients.add_contact(client, {**data, "role": role}, actor=actor)


def update_contact(contact: Contact, data: dict[str, Any], *, actor: str) -> Contact:
    return clients.update_contact(contact, data, actor=actor)


def update_profile(client: Client, data: dict[str, Any], *, actor: str) -> Client:
    """Tax ID only when the group shows the field; invoice method only when the group lets
    clients choose it, and only among the offered delivery methods. All or nothing."""
    settings = ClientSettings.of(client.pk)
    errors: list[FieldError] = []
    if "tax_id" in data:
        require(client, "tax_id", settings)
    if "invoice_method" in data:
        require(client, "invoice_method", settings)
        if data["invoice_method"] not in settings.value("delivery_methods"):
            offered = ", ".join(settings.value("delivery_methods"))
            errors.append(FieldError("invoice_method", f"must be one of: {offered}"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        client_changes = {k: data[k] for k in ("tax_id", "language") if k in data}
        if client_changes:
            client = clients.update_client(client, client_changes, actor=actor)
        if "invoice_method" in data and data["invoice_method"] != settings.value("invoice_method"):
            set_client_setting(client, "invoice_method", data["invoice_method"], actor=actor)
    return client
