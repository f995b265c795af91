"""API keys are read-only or read-write, and belong to one company or to all. Every API
operation is tried: a read-only key's change is 403 before anything runs; a key of one
company finds nothing of another (404) and lists only its own company's rows."""

import re

import pytest
from django.test import Client as HttpClient

from groupbill.api.actions import create_api_key
from groupbill.api.router import api as ninja_api
from groupbill.audit.models import AuditEntry
from tests.web.test_permission_matrix import book

ACTOR = "test"

# Path parameter → the book's object it names.
BOOK_PARAM = {
    "company_id": "company",
    "client_id": "client",
    "group_id": "group",
    "contact_id": "contact",
    "package_id": "package",
    "option_id": "option",
    "service_id": "service",
    "invoice_id": "invoice",
    "credit_note_id": "credit_note",
    "endpoint_id": "endpoint",
    "run_id": "run",
    "delivery_id": "delivery",
}
# Parameters that name no company's object (a setting's key) or that the book does not
# make yet: operations using them are not tried for company binding.
NOT_TRIED = {"key", "line_id", "account_id", "transaction_id", "recurring_id", "change_id"}


# The book's contact has no portal access to read.
NOTHING_TO_READ = {"/api/v1/contacts/{contact_id}/portal-access"}


def operations() -> list[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def key_client(**scope) -> HttpClient:
    _, raw = create_api_key("scoped", actor=ACTOR, **scope)
    return HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}")


def call(http, method, path):
    if method == "GET":
        return http.get(path)
    return getattr(http, method.lower())(path, data="{}", content_type="application/json")


def params(path) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def test_every_path_parameter_is_tried_or_named_as_not_tried():
    assert {p for _, path in operations() for p in params(path)} <= set(BOOK_PARAM) | NOT_TRIED


@pytest.mark.django_db
def test_a_read_only_key_is_refused_every_change_and_may_read():
    ids = book("Own")
    http = key_client(read_only=True)
    changes = [(m, p) for m, p in operations() if m != "GET"]
    assert len(changes) > 50
    wrong = []
    for method, path in changes:
        url = re.sub(r"{\w+}", "1", path)
        response = call(http, method, url)
        if response.status_code != 403 or "read-only" not in response.json()["detail"]:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []
    assert http.get(f"/api/v1/clients/{ids['client']}").json()["id"] == ids["client"]


@pytest.mark.django_db
def test_a_key_of_one_company_finds_nothing_of_another():
    own, other = book("Own"), book("Other")
    http = key_client(company_id=own["company"])
    tried, wrong = 0, []
    for method, path in operations():
        names = params(path)
        if not names or set(names) & NOT_TRIED:
            continue
        tried += 1
        url = path.format(**{n: other[BOOK_PARAM[n]] for n in names})
        response = call(http, method, url)
        if response.status_code != 404:
            wrong.append(f"{method} {path}: {response.status_code}")
        if method == "GET" and "pdf" not in path and path not in NOTHING_TO_READ:
            mine = http.get(path.format(**{n: own[BOOK_PARAM[n]] for n in names}))
            if mine.status_code != 200:
                wrong.append(f"own {method} {path}: {mine.status_code}")
    assert tried > 60
    assert wrong == []


@pytest.mark.django_db
def test_a_key_of_one_company_lists_and_creates_only_there():
    own, other = book("Own"), book("Other")
    http = key_client(company_id=own["company"])
    for path, idkey in (
        ("/api/v1/companies", "company"),
        ("/api/v1/clients", "client"),
        ("/api/v1/invoices", "invoice"),
        ("/api/v1/services", "service"),
        ("/api/v1/credit-notes", "credit_note"),
        ("/api/v1/webhook-endpoints", "endpoint"),
        ("/api/v1/automation/runs", "run"),
    ):
        assert [row["id"] for row in http.get(path).json()["items"]] == [own[idkey]], path
    body = {"company_id": other["company"], "first_name": "Eve", "email": "eve@example.com"}
    assert http.post("/api/v1/clients", body, content_type="application/json").status_code == 404
    new = {"name": "New", "timezone": "UTC", "default_currency": "EUR"}
    refused = http.post("/api/v1/companies", new, content_type="application/json")
    assert refused.status_code == 403
    hook = {"company_id": other["company"], "url": "https://example.com/h", "event_types": []}
    made = http.post("/api/v1/webhook-endpoints", hook, content_type="application/json")
    assert made.status_code == 404
    run = http.post("/api/v1/automation/runs", {}, content_type="application/json")
    assert run.status_code == 403 and "give its company_id" in run.json()["detail"]
    every = key_client()
    assert len(every.get("/api/v1/clients").json()["items"]) == 2


@pytest.mark.django_db
def test_the_audit_log_names_the_key():
    ids = book("Own")
    http = key_client(company_id=ids["company"])
    changed = http.patch(
        f"/api/v1/clients/{ids['client']}", {"last_name": "Byron"}, content_type="application/json"
    )
    assert changed.status_code == 200
    assert AuditEntry.objects.filter(actor="apikey:scoped").exists()


def test_the_cli_creates_a_read_only_key_of_one_company(db, capsys):
    from django.core.management import call_command

    ids = book("Own")
    call_command("apikey", "create", "--name", "support", "--company", str(ids["company"]),
                 "--read-only")  # fmt: skip
    raw = capsys.readouterr().out.strip()
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert http.get(f"/api/v1/clients/{ids['client']}").status_code == 200
    assert call(http, "DELETE", f"/api/v1/clients/{ids['client']}").status_code == 403
    call_command("apikey", "list")
    assert f"read-only\tcompany {ids['company']}\tsupport" in capsys.readouterr().out
