"""Which company a request is about, read from its URL's own ids, for the staff pages and
the API alike: the role checks (groupbill.companies.roles) ask it once per request."""

from groupbill.automation.models import EngineRun
from groupbill.billing.models import (
    CreditNote,
    Invoice,
    PaymentAccount,
    RecurringInvoice,
    Transaction,
)
from groupbill.catalog.models import ConfigOption, Package
from groupbill.clients.models import Client, ClientGroup, Contact
from groupbill.notices.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from groupbill.services.models import Service, ServiceChange

# URL parameter → how to find the company of the object it names (a values_list path).
_COMPANY_OF = {
    "client_id": (Client, "company_id"),
    "group_id": (ClientGroup, "company_id"),
    "contact_id": (Contact, "client__company_id"),
    "package_id": (Package, "company_id"),
    "option_id": (ConfigOption, "package__company_id"),
    "service_id": (Service, "client__company_id"),
    "invoice_id": (Invoice, "company_id"),
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


def company_of(kwargs: dict) -> int | object | None:
    """The company the URL's ids name: its id, None when the URL names no company (a page
    across companies), NO_COMPANY when an id names nothing (the view answers 404)."""
    if kwargs.get("company_id") is not None:
        return int(kwargs["company_id"])
    for name, (model, path) in _COMPANY_OF.items():
        if kwargs.get(name) is not None:
            try:
                pk = int(kwargs[name])
            except (TypeError, ValueError):
                return NO_COMPANY
            found = list(model.objects.filter(pk=pk).values_list(path, flat=True)[:1])
            # A run of every company (company None) is a page across companies.
            return found[0] if found else NO_COMPANY
    return None
