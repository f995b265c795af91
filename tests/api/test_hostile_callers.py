"""What a hostile or careless API caller gets: a clear 4xx (problem+json), never a 500, and
nothing written; a pause for guessing keys."""

import json
from datetime import date

import pytest
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groupbill.clients.models import Client
from tests import processes

PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith(PROBLEM)
    return response.json()


# --- Bodies ---------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = {"first_name": "x" * 2000, "last_name": "y", "email": "a@example.com"}
    doc = _problem(api.post("/clients", body), 413)
    assert "at most 1000" in doc["detail"]


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_is_415(api_key, company, kind):
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    response = http.generic("POST", "/api/v1/clients", b'{"first_name": "Ada"}', kind)
    doc = _problem(response, 415)
    assert "application/json" in doc["detail"]
    assert not Client.objects.exists()


LONE = "Ada \ud800"


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/clients", {"first_name": LONE, "last_name": "L", "email": "a@example.com"},
         "first_name"),
        ("/companies/0/client-groups", {"name": LONE}, "name"),
        ("/clients", {"first_name": "Ada", "last_name": "L", "email": "a@example.com",
                      "notes": {LONE: 1}}, "notes"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_anywhere_in_a_body_is_422_on_its_field(api, company, path, body, field):
    path = path.replace("/0/", f"/{company.pk}/")
    doc = _problem(api.post(path, {**body, "company_id": company.pk}), 422)
    assert doc["errors"][0]["field"].startswith(field)
    assert "lone surrogate" in doc["errors"][0]["message"]
    assert not Client.objects.exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=5),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(max_size=5),
    st.sampled_from(["first_name", "last_name", "email", "company_name"]),
)
def test_no_surrogate_text_ever_reaches_the_database(api, company, before, lone, after, field):
    """A lone surrogate (not half of a pair, which JSON joins into one character)."""
    text = before + lone + after
    body = {"first_name": "Ada", "last_name": "L", "email": "a@example.com", field: text}
    response = api.post("/clients", {**body, "company_id": company.pk})
    assert response.status_code == 422
    assert not Client.objects.exists()


# --- Guessing ---------------------------------------------------------------------------------


def test_guessing_api_keys_is_answered_429_with_retry_after(db, api_key):
    from django.conf import settings

    from groupbill.api import auth

    guesser = HttpClient(HTTP_AUTHORIZATION="Bearer gb_wrong")
    for _ in range(settings.API_KEY_FAILURE_LIMIT):
        _problem(guesser.get("/api/v1/companies"), 401)
    doc = _problem(guesser.get("/api/v1/companies"), 429)
    assert "Too many requests with keys" in doc["detail"]
    retry = guesser.get("/api/v1/companies")["Retry-After"]
    assert 1 <= int(retry) <= auth.FAILURE_WINDOW.total_seconds() + 1
    # The address is paused, whatever key it sends; others are not.
    right_key_same_address = HttpClient(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert right_key_same_address.get("/api/v1/companies").status_code == 429
    elsewhere = HttpClient(HTTP_AUTHORIZATION=f"Bearer {api_key}", REMOTE_ADDR="10.0.0.9")
    assert elsewhere.get("/api/v1/companies").status_code == 200


def test_the_problem_documents_are_json(api):
    doc = json.loads(api.get("/clients/999999").content)
    assert doc["status"] == 404


# --- Bounds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "as_of", ["9999-12-31", "0001-01-01", "0001-01-01T00:00+14:00", "2100-01-01"]
)
def test_an_as_of_far_from_today_is_refused(api, as_of):
    doc = _problem(api.post("/automation/runs", {"as_of": as_of}), 422)
    assert doc["errors"][0]["field"] == "as_of"
    done = processes.run_cli("run", "--as-of", as_of)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--as-of must be within 10 years of today" in done.stderr


def test_dates_far_from_today_and_endless_invoices_are_refused(api, company, make_client):
    from groupbill.catalog.models import Package, PackagePrice

    ada = make_client()
    price = PackagePrice.objects.create(
        package=Package.objects.create(company=company, name="Web"), unit="month", count=1,
        currency="EUR", price=100,
    )  # fmt: skip
    order = {"client_id": ada.pk, "pricing_id": price.pk, "start_on": "0001-01-01"}
    assert _problem(api.post("/services", order), 422)["errors"][0]["field"] == "start_on"
    recurring = {"unit": "month", "start_on": "9999-12-31",
                 "lines": [{"description": "Support", "unit_amount": 100}]}  # fmt: skip
    doc = _problem(api.post(f"/clients/{ada.pk}/recurring-invoices", recurring), 422)
    assert doc["errors"][0]["field"] == "start_on"
    line = {"description": "Item", "unit_amount": 10**15}
    draft = api.post("/invoices", {"client_id": ada.pk, "lines": [line] * 500}).json()
    doc = _problem(api.post(f"/invoices/{draft['id']}/lines", {"lines": [line]}), 422)
    assert "at most 500 lines" in doc["detail"]
    doc = _problem(api.post(f"/invoices/{draft['id']}/issue", {"issued_on": "1900-01-01"}), 422)
    assert doc["errors"][0]["field"] == "issued_on"
    assert api.post(f"/invoices/{draft['id']}/issue", {}).status_code == 200
    # The largest invoice there can be, several times over: balances still add up.
    for _ in range(30):
        big = api.post("/invoices", {"client_id": ada.pk, "lines": [line] * 500}).json()
        api.post(f"/invoices/{big['id']}/issue", {})
    balance = api.get(f"/clients/{ada.pk}/balance").json()["items"][0]
    assert balance["due"] == 31 * 500 * 10**15
    assert ada.pk and not Package.objects.filter(name="x").exists()


def test_the_openapi_document_has_no_duplicate_keys(client, db):
    """A key twice in one object (the PDF's "200") broke the interactive docs entirely."""

    def unique(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
        return dict(pairs)

    text = client.get("/api/v1/openapi.json").content.decode()
    doc = json.loads(text, object_pairs_hook=unique)
    assert "/api/v1/invoices/{invoice_id}/pdf" in doc["paths"]


# --- Generated hostile values ---------------------------------------------------------------

HOSTILE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BEYOND_AMOUNTS = st.integers(min_value=10**15 + 1, max_value=2**200) | st.integers(
    max_value=-(10**15) - 1, min_value=-(2**200)
)


@HOSTILE
@given(
    field=st.sampled_from(["unit_amount", "quantity"]),
    value=BEYOND_AMOUNTS
    | st.floats().filter(lambda x: not x.is_integer())  # 5.0 is the number 5; 5.5, nan are not
    | st.booleans()
    | st.just("12"),
)
def test_numbers_no_line_can_hold_are_422_and_write_nothing(api, make_client, field, value):
    from groupbill.billing.models import Invoice

    line = {"description": "Hosting", "unit_amount": 1000, field: value}
    response = api.post("/invoices", {"client_id": make_client().pk, "lines": [line]})
    doc = _problem(response, 422)
    assert doc["errors"][0]["field"] == f"lines.0.{field}"
    assert not Invoice.objects.exists()


FAR_DATES = st.dates(max_value=date(2016, 1, 1)) | st.dates(min_value=date(2037, 12, 31))


@HOSTILE
@given(day=FAR_DATES | st.integers() | st.just("31.12.2026") | st.just(""))
def test_dates_far_from_today_or_not_dates_are_422_and_write_nothing(api, make_client, day):
    from groupbill.billing.models import RecurringInvoice

    value = day.isoformat() if isinstance(day, date) else day
    recurring = {"unit": "month", "start_on": value,
                 "lines": [{"description": "Support", "unit_amount": 100}]}  # fmt: skip
    doc = _problem(api.post(f"/clients/{make_client().pk}/recurring-invoices", recurring), 422)
    assert doc["errors"][0]["field"] == "start_on"
    message = doc["errors"][0]["message"]
    assert "within 10 years of today" in message or "YYYY-MM-DD" in message, message
    assert not RecurringInvoice.objects.exists()


@HOSTILE
@given(size=st.integers(min_value=1001, max_value=50_000), kind=st.sampled_from(["json", "text"]))
def test_big_bodies_are_413_whatever_their_type(api_key, company, settings, size, kind):
    settings.API_MAX_BODY_BYTES = 1000
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    body = json.dumps({"company_id": company.pk, "first_name": "x" * size}).encode()
    content_type = "application/json" if kind == "json" else "text/plain"
    _problem(http.generic("POST", "/api/v1/clients", body, content_type), 413)
    assert not Client.objects.exists()
