"""Which company a request is about, read from its URL's own ids, for the staff pages and
the API alike: the role checks (groupbill.companies.roles) ask it once per request. The
API also binds the ids a query or a body names (groupbill.api.auth)."""

from groupbill.automation.models import EngineRun
from groupbill.billing.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    PaymentAccount,
    RecurringInvoice,
    Transaction,
)
from groupbill.catalog.models import ConfigOption, Package, PackagePrice
from groupbill.clients.models import Client, ClientGroup, Contact
from groupbill.notices.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from groupbill.services.models import Service, ServiceChange
from groupbill.validation import MAX_ID

# An id's name (a URL parameter, or a query's or body's field) → how to find the company
# of the object it names (a values_list path).
_COMPANY_OF = {
    "client_id": (Client, "company_id"),
    "group_id": (ClientGroup, "company_id"),
    "contact_id": (Contact, "client__company_id"),
    "package_id": (Package, "company_id"),
    "pricing_id": (PackagePrice, "package__company_id"),
    "option_id": (ConfigOption, "package__company_id"),
    "service_id": (Service, "client__company_id"),
    "invoice_id": (Invoice, "company_id"),
    "line_id": (InvoiceLine, "invoice__company_id"),
    "credit_note_id": (CreditNote, "company_id"),
    "transaction_id": (Transaction, "company_id"),
    "account_id": (PaymentAccount, "client__company_id"),
    "endpoint_id": (WebhookEndpoint, "company_id"),
    "delivery_id": (WebhookDelivery, "company_id"),
    "message_id": (OutboxMessage, "company_id"),
    "run_id": (EngineRun, "company_id"),
    "recurring_id": (RecurringInvoice, "client__company_id"),
    "change_id": (ServiceChange, "service__client__company_id"),
}

NO_COMPANY = object()  # the URL names an object that does not exist


# Every name an id of a company's object goes by.
ID_NAMES = frozenset({"company_id", *_COMPANY_OF})


def company_of(kwargs: dict) -> int | object | None:
    """The company the URL's ids name: its id, None when the URL names no company (a page
    across companies), NO_COMPANY when an id names nothing (the view answers 404)."""
    if kwargs.get("company_id") is not None:
        return company_named("company_id", kwargs["company_id"])
    for name in _COMPANY_OF:
        if kwargs.get(name) is not None:
            return company_named(name, kwargs[name])
    return None


def company_named(name: str, object_id) -> int | object | None:
    """The company of the object an id (`name` in ID_NAMES) names: its id, None for an
    object of no company (a run of every company), NO_COMPANY when the id names nothing."""
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        return NO_COMPANY
    if not 0 < pk <= MAX_ID:  # no such row, and no number the database overflows on
        return NO_COMPANY
    if name == "company_id":
        return pk
    model, path = _COMPANY_OF[name]
    found = list(model.objects.filter(pk=pk).values_list(path, flat=True)[:1])
    return found[0] if found else NO_COMPANY
