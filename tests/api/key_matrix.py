"""Every API operation, and how to try it on a company's book (tests.permission_book): the
ids its path names, a body that succeeds and what it answers. The key matrix
(test_key_matrix.py) tries each with every kind of key; test_key_lists.py goes over the
lists and over the ids queries and bodies name. A new operation fails their coverage test
until it has a row here."""

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.apps import apps
from django.db import transaction
from django.test import Client as HttpClient

from groupbill import external
from groupbill.api.actions import create_api_key
from groupbill.api.models import ApiKey, KeyFailure
from groupbill.api.router import api as ninja_api
from groupbill.audit.models import AuditEntry
from groupbill.billing import payments
from groupbill.billing.queries import get_invoice
from groupbill.clients.queries import get_client, get_group
from groupbill.companies.models import Company
from groupbill.companies.queries import company_today
from groupbill.services import actions
from groupbill.services.models import Service
from groupbill.services.queries import get_change, get_service
from groupbill.settings_catalog import transfer
from groupbill.settings_catalog.actions import set_client_setting, set_group_setting
from groupbill.ui.permissions import NO_COMPANY, company_named

ACTOR = "test"
CHANGES = ("POST", "PUT", "PATCH", "DELETE")

# An id's name (in a path, a query or a body) → the book's object of that kind.
BOOK_OBJECT = {
    "company_id": "company",
    "group_id": "group",
    "client_id": "client",
    "contact_id": "contact",
    "package_id": "package",
    "pricing_id": "price",
    "option_id": "option",
    "service_id": "service",
    "parent_id": "service",
    "change_id": "change",
    "invoice_id": "invoice",
    "line_id": "line",
    "credit_note_id": "credit_note",
    "transaction_id": "transaction",
    "account_id": "account",
    "payment_account_id": "account",
    "recurring_id": "recurring",
    "run_id": "run",
    "endpoint_id": "endpoint",
    "delivery_id": "delivery",
}
# A setting's key names no company's object: the company's (or group's, client's) is in
# the path beside it.
SETTING = "queue_service_changes_until_paid"
CLIENT_SETTING = "autodebit_enabled"  # one a client may override


Book = dict[str, int]


@dataclass(frozen=True)
class Try:
    """How to try an operation. `body` and `query` are made from a book (the own or the
    other company's). `ok`: the answer of a key allowed to (default: the method's
    success); `bound`: what a key of one company is answered instead, in its own company
    and in another one, when the operation works across companies (POST /companies).
    `objects`: book objects other than the path parameters' usual ones; `path`: a
    setting's key other than SETTING. `prepare`: brings
    the book's objects into the state the operation needs, inside the rolled-back
    transaction it runs in. `audited`: a change writes the audit log (under the key);
    False: what it makes names its maker itself (`actor` in the answer)."""

    body: Callable[[Book], dict] | None = None
    query: Callable[[Book], dict] = lambda b: {}
    ok: int | None = None
    bound: int | None = None
    objects: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Book], None] | None = None
    audited: bool = True


def _lines(description="Extra"):
    return [{"description": description, "unit_amount": 500}]


def _suspended(b):
    actions.suspend(get_service(b["service"]), actor=ACTOR, reason="abuse")


def _cancelling(b):
    service = get_service(b["service"])
    actions.cancel(service, actor=ACTOR, today=service.renew_date, when="end_of_term")


def _renewal_failed(b):
    Service.objects.filter(pk=b["service"]).update(renewal_failed=True, renewal_attempts=3)


def _change_paid(b):
    invoice = get_invoice(b["open_invoice"])
    payments.pay_invoice(invoice, amount=invoice.balance_due, actor=ACTOR)


def _change_dropped(b):
    actions.cancel_queued_change(get_change(b["change"]), actor=ACTOR, reason="dropped")


def _pending_paid_service(b):
    """The book's service pending again with its first invoice paid: to provision."""
    Service.objects.filter(pk=b["service"]).update(status="pending")


def _group_overrides(b):
    set_group_setting(get_group(b["group"]), SETTING, True, actor=ACTOR)


def _client_overrides(b):
    set_client_setting(get_client(b["client"]), CLIENT_SETTING, False, actor=ACTOR)


def _settings_document(b):
    document = {"format": transfer.FORMAT, "version": transfer.VERSION,
                "company": {"invoice_days_before_renewal": 9}, "groups": {}}  # fmt: skip
    return {"document": document, "dry_run": False}


def _today(b):
    return company_today(Company.objects.get(pk=b["company"])).isoformat()


OPERATIONS: dict[tuple[str, str], Try] = {
    ("GET", "/api/v1/companies"): Try(),
    ("POST", "/api/v1/companies"): Try(
        body=lambda b: {"name": "New", "timezone": "UTC", "default_currency": "EUR"}, bound=403
    ),
    ("GET", "/api/v1/companies/{company_id}"): Try(),
    ("PATCH", "/api/v1/companies/{company_id}"): Try(
        body=lambda b: {"notify_email": "billing@example.com"}
    ),
    ("GET", "/api/v1/companies/{company_id}/client-groups"): Try(),
    ("POST", "/api/v1/companies/{company_id}/client-groups"): Try(body=lambda b: {"name": "New"}),
    ("GET", "/api/v1/client-groups/{group_id}"): Try(),
    ("PATCH", "/api/v1/client-groups/{group_id}"): Try(body=lambda b: {"description": "Big"}),
    ("DELETE", "/api/v1/client-groups/{group_id}"): Try(),
    ("GET", "/api/v1/clients"): Try(query=lambda b: {"company_id": b["company"]}),
    ("POST", "/api/v1/clients"): Try(
        body=lambda b: {"company_id": b["company"], "first_name": "Eve", "email": "e@x.example"}
    ),
    ("GET", "/api/v1/clients/{client_id}"): Try(),
    ("PATCH", "/api/v1/clients/{client_id}"): Try(body=lambda b: {"last_name": "Byron"}),
    ("DELETE", "/api/v1/clients/{client_id}"): Try(ok=409),  # it has invoices
    ("GET", "/api/v1/clients/{client_id}/contacts"): Try(),
    ("POST", "/api/v1/clients/{client_id}/contacts"): Try(
        body=lambda b: {"first_name": "Bob", "email": "bob@x.example"}
    ),
    ("GET", "/api/v1/clients/{client_id}/messages"): Try(),
    ("GET", "/api/v1/clients/{client_id}/notes"): Try(),
    ("POST", "/api/v1/clients/{client_id}/notes"): Try(
        body=lambda b: {"text": "Called."},
        audited=False,  # the note names its writer
    ),
    ("GET", "/api/v1/clients/{client_id}/history"): Try(),
    ("GET", "/api/v1/contacts/{contact_id}/portal-access"): Try(),
    ("POST", "/api/v1/contacts/{contact_id}/portal-access"): Try(
        body=lambda b: {"send_link": False},
        ok=409,  # the book's contact has access
    ),
    ("PATCH", "/api/v1/contacts/{contact_id}/portal-access"): Try(
        body=lambda b: {"is_active": False}
    ),
    ("POST", "/api/v1/contacts/{contact_id}/portal-access/password-link"): Try(),
    ("GET", "/api/v1/companies/{company_id}/settings"): Try(),
    ("PATCH", "/api/v1/companies/{company_id}/settings"): Try(
        body=lambda b: {"invoice_days_before_renewal": 7}
    ),
    ("GET", "/api/v1/companies/{company_id}/settings/export"): Try(),
    ("POST", "/api/v1/companies/{company_id}/settings/import"): Try(body=_settings_document),
    ("DELETE", "/api/v1/companies/{company_id}/settings/{key}"): Try(),
    ("GET", "/api/v1/client-groups/{group_id}/settings"): Try(),
    ("DELETE", "/api/v1/client-groups/{group_id}/settings"): Try(prepare=_group_overrides),
    ("PUT", "/api/v1/client-groups/{group_id}/settings/{key}"): Try(
        body=lambda b: {"value": False}
    ),
    ("DELETE", "/api/v1/client-groups/{group_id}/settings/{key}"): Try(prepare=_group_overrides),
    ("GET", "/api/v1/clients/{client_id}/settings"): Try(),
    ("PUT", "/api/v1/clients/{client_id}/settings/{key}"): Try(
        body=lambda b: {"value": False}, path={"key": CLIENT_SETTING}
    ),
    ("DELETE", "/api/v1/clients/{client_id}/settings/{key}"): Try(
        path={"key": CLIENT_SETTING}, prepare=_client_overrides
    ),
    ("GET", "/api/v1/companies/{company_id}/packages"): Try(),
    ("POST", "/api/v1/companies/{company_id}/packages"): Try(body=lambda b: {"name": "VPS"}),
    ("GET", "/api/v1/packages/{package_id}"): Try(),
    ("PATCH", "/api/v1/packages/{package_id}"): Try(body=lambda b: {"description": "Fast"}),
    ("DELETE", "/api/v1/packages/{package_id}"): Try(ok=409),  # a service has it
    ("PUT", "/api/v1/packages/{package_id}/prices"): Try(
        body=lambda b: {"prices": [{"unit": "month", "currency": "EUR", "price": 1200}]}
    ),
    ("GET", "/api/v1/packages/{package_id}/options"): Try(),
    ("POST", "/api/v1/packages/{package_id}/options"): Try(
        body=lambda b: {"name": "RAM", "values": [{"name": "1 GB"}]}
    ),
    ("GET", "/api/v1/package-options/{option_id}"): Try(),
    ("PATCH", "/api/v1/package-options/{option_id}"): Try(body=lambda b: {"name": "Storage"}),
    ("DELETE", "/api/v1/package-options/{option_id}"): Try(),
    ("GET", "/api/v1/services"): Try(query=lambda b: {"client_id": b["client"]}),
    ("POST", "/api/v1/services"): Try(
        body=lambda b: {"client_id": b["client"], "pricing_id": b["price"]}
    ),
    ("GET", "/api/v1/services/{service_id}"): Try(),
    ("POST", "/api/v1/services/{service_id}/provision"): Try(prepare=_pending_paid_service),
    ("POST", "/api/v1/services/{service_id}/suspend"): Try(body=lambda b: {"reason": "abuse"}),
    ("POST", "/api/v1/services/{service_id}/unsuspend"): Try(body=lambda b: {}, prepare=_suspended),
    ("POST", "/api/v1/services/{service_id}/cancel"): Try(body=lambda b: {"when": "end_of_term"}),
    ("POST", "/api/v1/services/{service_id}/unschedule-cancellation"): Try(prepare=_cancelling),
    ("POST", "/api/v1/services/{service_id}/renewal/retry"): Try(
        prepare=_renewal_failed,
        ok=409,  # the book has no paid period waiting to renew
    ),
    ("POST", "/api/v1/services/{service_id}/renewal/clear"): Try(prepare=_renewal_failed),
    ("GET", "/api/v1/services/{service_id}/changes"): Try(),
    ("POST", "/api/v1/services/{service_id}/changes"): Try(
        body=lambda b: {"quantity": 2}, prepare=_change_dropped
    ),
    ("POST", "/api/v1/service-changes/{change_id}/apply"): Try(prepare=_change_paid),
    ("POST", "/api/v1/service-changes/{change_id}/cancel"): Try(body=lambda b: {"reason": "No"}),
    ("GET", "/api/v1/services/{service_id}/history"): Try(),
    ("GET", "/api/v1/invoices"): Try(query=lambda b: {"client_id": b["client"]}),
    ("POST", "/api/v1/invoices"): Try(body=lambda b: {"client_id": b["client"], "lines": _lines()}),
    ("GET", "/api/v1/invoices/{invoice_id}"): Try(),
    ("DELETE", "/api/v1/invoices/{invoice_id}"): Try(),
    ("GET", "/api/v1/invoices/{invoice_id}/pdf"): Try(),
    ("POST", "/api/v1/invoices/{invoice_id}/lines"): Try(body=lambda b: {"lines": _lines()}),
    ("DELETE", "/api/v1/invoices/{invoice_id}/lines/{line_id}"): Try(),
    ("POST", "/api/v1/invoices/{invoice_id}/issue"): Try(body=lambda b: {}),
    ("POST", "/api/v1/invoices/{invoice_id}/void"): Try(body=lambda b: {}),
    ("POST", "/api/v1/invoices/{invoice_id}/payments"): Try(
        body=lambda b: {"amount": 100}, objects={"invoice_id": "open_invoice"}
    ),
    ("POST", "/api/v1/invoices/{invoice_id}/unapply"): Try(
        body=lambda b: {}, objects={"invoice_id": "paid_invoice"}
    ),
    ("GET", "/api/v1/credit-notes"): Try(query=lambda b: {"client_id": b["client"]}),
    ("GET", "/api/v1/credit-notes/{credit_note_id}"): Try(),
    ("GET", "/api/v1/credit-notes/{credit_note_id}/pdf"): Try(),
    ("GET", "/api/v1/transactions"): Try(query=lambda b: {"client_id": b["client"]}),
    ("POST", "/api/v1/transactions"): Try(
        body=lambda b: {
            "client_id": b["client"],
            "kind": "credit",
            "amount": 100,
            "currency": "EUR",
        }
    ),
    ("GET", "/api/v1/transactions/{transaction_id}"): Try(),
    ("POST", "/api/v1/transactions/{transaction_id}/apply"): Try(
        body=lambda b: {"invoice_id": b["open_invoice"], "amount": 100}
    ),
    ("POST", "/api/v1/transactions/{transaction_id}/refund"): Try(body=lambda b: {"amount": 100}),
    ("GET", "/api/v1/clients/{client_id}/balance"): Try(),
    ("POST", "/api/v1/clients/{client_id}/apply-credit"): Try(body=lambda b: {"currency": "EUR"}),
    ("GET", "/api/v1/clients/{client_id}/payment-accounts"): Try(),
    ("POST", "/api/v1/clients/{client_id}/payment-accounts"): Try(
        body=lambda b: {"kind": "card", "gateway": "test", "reference": "tok_new", "last4": "1111"}
    ),
    ("GET", "/api/v1/payment-accounts/{account_id}"): Try(),
    ("PATCH", "/api/v1/payment-accounts/{account_id}"): Try(body=lambda b: {"label": "Work"}),
    ("DELETE", "/api/v1/payment-accounts/{account_id}"): Try(),
    ("POST", "/api/v1/payment-accounts/{account_id}/autodebit"): Try(),
    ("GET", "/api/v1/clients/{client_id}/recurring-invoices"): Try(),
    ("POST", "/api/v1/clients/{client_id}/recurring-invoices"): Try(
        body=lambda b: {"unit": "month", "start_on": _today(b), "lines": _lines("Support")}
    ),
    ("GET", "/api/v1/recurring-invoices/{recurring_id}"): Try(),
    ("POST", "/api/v1/recurring-invoices/{recurring_id}/stop"): Try(),
    ("GET", "/api/v1/automation/runs"): Try(),
    ("POST", "/api/v1/automation/runs"): Try(
        body=lambda b: {"company_id": b["company"], "dry_run": True},
        audited=False,  # the run names who started it
    ),
    ("GET", "/api/v1/automation/runs/{run_id}"): Try(),
    ("GET", "/api/v1/webhook-endpoints"): Try(query=lambda b: {"company_id": b["company"]}),
    ("POST", "/api/v1/webhook-endpoints"): Try(
        body=lambda b: {
            "company_id": b["company"],
            "url": "https://example.com/h",
            "event_types": ["invoice.created"],
        }
    ),
    ("GET", "/api/v1/webhook-endpoints/{endpoint_id}"): Try(),
    ("PATCH", "/api/v1/webhook-endpoints/{endpoint_id}"): Try(
        body=lambda b: {"description": "CRM"}
    ),
    ("DELETE", "/api/v1/webhook-endpoints/{endpoint_id}"): Try(),
    ("GET", "/api/v1/webhook-endpoints/{endpoint_id}/deliveries"): Try(),
    ("POST", "/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver"): Try(),
}


@functools.cache
def schema() -> dict:
    """The OpenAPI document."""
    return ninja_api.get_openapi_schema()


def operations() -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document."""
    return [
        (method.upper(), path)
        for path, item in schema()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def url(path: str, book: Book, tried: Try) -> str:
    """The path with the book's objects."""
    values = {}
    for name in params(path):
        if name == "key":
            values[name] = tried.path.get("key", SETTING)
        else:
            values[name] = book[tried.objects.get(name, BOOK_OBJECT[name])]
    return path.format(**values)


def params(path: str) -> list[str]:
    """The names of a path's parameters."""
    return re.findall(r"{(\w+)}", path)


def key_client(name="scoped", **scope) -> HttpClient:
    _, raw = create_api_key(name, actor=ACTOR, **scope)
    return HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}", raise_request_exception=False)


def call(http: HttpClient, method: str, target: str, body=None, query=None):
    if query:
        target += "?" + urlencode(query)
    if method in ("GET", "DELETE"):
        return getattr(http, method.lower())(target)
    data = "" if body is None else json.dumps(body)
    return getattr(http, method.lower())(target, data=data, content_type="application/json")


def snapshot() -> dict:
    """Every row of Groupbill's tables but the API keys' own (when each was last used):
    what a refused request must leave as it was."""
    skip = (ApiKey, KeyFailure)
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model.__module__.startswith("groupbill.") and model not in skip
    }


def rolled_back(run: Callable):
    """Runs `run` in a transaction that is then rolled back: the next try sees the same
    book. Its gateway and modules are the in-process stand-ins (the test gateway and
    module), so their calls may be made inside it."""
    with external.simulated(), transaction.atomic():
        result = run()
        transaction.set_rollback(True)
    return result


def audit_actors_since(last_pk: int) -> list[str]:
    return list(AuditEntry.objects.filter(pk__gt=last_pk).values_list("actor", flat=True))


def last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# A list's rows → the name of the id each row's `id` is (None: rows of no company of
# their own, each the row of an object named in the path).
ROW_ID = {
    "CompanyOut": "company_id",
    "GroupOut": "group_id",
    "ClientOut": "client_id",
    "ContactOut": "contact_id",
    "MessageOut": "message_id",
    "NoteOut": None,
    "HistoryOut": None,
    "PackageOut": "package_id",
    "OptionOut": "option_id",
    "ServiceOut": "service_id",
    "ChangeOut": "change_id",
    "EventOut": None,
    "InvoiceOut": "invoice_id",
    "CreditNoteOut": "credit_note_id",
    "TransactionOut": "transaction_id",
    "BalanceOut": None,
    "AccountOut": "account_id",
    "RecurringOut": "recurring_id",
    "RunOut": "run_id",
    "EndpointOut": "endpoint_id",
    "DeliveryOut": "delivery_id",
}
ROW_FIELDS = {"company_id", "client_id", "invoice_id", "service_id", "endpoint_id"}


def list_rows(method: str, path: str) -> str | None:
    """The schema name of the rows a list operation answers (None: not a list)."""
    if method != "GET":
        return None
    answer = schema()["paths"][path]["get"]["responses"][200]["content"]
    ref = answer.get("application/json", {}).get("schema", {}).get("$ref", "")
    listed = schema()["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    rows = listed.get("properties", {}).get("items", {}).get("items", {}).get("$ref")
    return rows.rsplit("/", 1)[-1] if rows else None


def foreign_rows(rows: list[dict], row_kind: str, company_id: int) -> list[dict]:
    """The rows of another company than `company_id` (or of none: a run of every company):
    by the row's own id and by each id of a company's object it names."""
    foreign = []
    for row in rows:
        named = [(n, row[n]) for n in ROW_FIELDS if row.get(n) is not None]
        if ROW_ID[row_kind]:
            named.append((ROW_ID[row_kind], row["id"]))
        if any(company_named(n, v) not in (company_id, NO_COMPANY) for n, v in named):
            foreign.append(row)
    return foreign
