"""API keys, the CLI that makes them, the OpenAPI document and the problem+json errors."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient

from groupbill.api.actions import create_api_key, revoke_api_key
from groupbill.api.models import ApiKey
from groupbill.audit.models import AuditEntry
from tests.conftest import ACTOR

PROBLEM = "application/problem+json"


def call(path, key=None, method="get", **headers):
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return getattr(HttpClient(), method)(f"/api/v1{path}", **headers)


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"field", "message"}
    return body


# --- 401 -------------------------------------------------------------------------------------


PROTECTED = [
    ("get", "/companies"),
    ("post", "/companies"),
    ("get", "/clients"),
    ("get", "/companies/1/settings"),
    ("delete", "/client-groups/1"),
    ("put", "/clients/1/settings/autodebit_enabled"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_401_without_a_key(db, method, path):
    r = call(path, method=method)
    assert_problem(r, 401)
    assert r["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_401_with_a_wrong_key(api_key, method, path):
    assert_problem(call(path, "gb_" + "x" * 43, method=method), 401)
    assert_problem(call(path, api_key[:-1], method=method), 401)
    assert_problem(call(path, method=method, HTTP_AUTHORIZATION=api_key), 401)  # no "Bearer"
    assert_problem(call(path, method=method, HTTP_AUTHORIZATION=f"Basic {api_key}"), 401)


def test_key_works_until_revoked(db):
    key, raw = create_api_key("ops", actor=ACTOR)
    assert call("/companies", raw).status_code == 200
    revoke_api_key(key.pk, actor=ACTOR)
    assert_problem(call("/companies", raw), 401)
    # Other keys are unaffected.
    _, other = create_api_key("ops2", actor=ACTOR)
    assert call("/companies", other).status_code == 200


def test_every_key_is_different(db):
    raws = {create_api_key(f"k{i}", actor=ACTOR)[1] for i in range(5)}
    assert len(raws) == 5


def test_keys_are_stored_hashed(db):
    key, raw = create_api_key("hashed", actor=ACTOR)
    stored = ApiKey.objects.values().get(pk=key.pk)
    assert raw not in {str(v) for v in stored.values()}
    assert not any(raw in str(v) for v in stored.values())
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored["prefix"])  # only a short prefix is kept, to tell keys apart
    assert len(stored["prefix"]) < len(raw) // 2
    assert not ApiKey.objects.filter(key_hash=raw).exists()
    for entry in AuditEntry.objects.values():
        assert not any(raw in str(v) for v in entry.values())


def test_key_use_is_recorded(db):
    key, raw = create_api_key("used", actor=ACTOR)
    assert key.last_used_at is None
    call("/companies", raw)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_api_actor_is_the_key_name(api):
    r = api.post("/companies", {"name": "A", "timezone": "UTC", "default_currency": "USD"})
    assert r.status_code == 201
    assert AuditEntry.objects.filter(action="company.create").get().actor == "apikey:tests"


# --- The CLI ----------------------------------------------------------------------------------


def test_cli_create_prints_the_key_alone_on_stdout(db):
    out, err = StringIO(), StringIO()
    call_command("apikey", "create", "--name", "deploy bot", stdout=out, stderr=err)
    printed = out.getvalue()
    assert printed.endswith("\n")
    raw = printed.strip()
    assert printed == raw + "\n"  # one line, nothing else
    assert raw.startswith("gb_")
    assert " " not in raw
    assert raw not in err.getvalue()
    key = ApiKey.objects.get(name="deploy bot")
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert call("/companies", raw).status_code == 200


def test_cli_list_and_revoke(db):
    out = StringIO()
    call_command("apikey", "create", "--name", "ci", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="ci")
    listed = StringIO()
    call_command("apikey", "list", stdout=listed)
    assert "ci" in listed.getvalue()
    assert raw not in listed.getvalue()
    call_command("apikey", "revoke", str(key.pk), stdout=StringIO())
    assert_problem(call("/companies", raw), 401)
    with pytest.raises(CommandError):
        call_command("apikey", "revoke", str(key.pk), stdout=StringIO())


def test_cli_refuses_an_empty_name(db):
    with pytest.raises(CommandError):
        call_command("apikey", "create", "--name", "  ", stdout=StringIO(), stderr=StringIO())
    assert not ApiKey.objects.exists()


# --- OpenAPI -------------------------------------------------------------------------------------


CONTRACT = {
    "/api/v1/companies": {"get", "post"},
    "/api/v1/companies/{company_id}": {"get", "patch"},
    "/api/v1/companies/{company_id}/settings": {"get", "patch"},
    "/api/v1/companies/{company_id}/settings/{key}": {"delete"},
    "/api/v1/companies/{company_id}/client-groups": {"get", "post"},
    "/api/v1/client-groups/{group_id}": {"get", "patch", "delete"},
    "/api/v1/client-groups/{group_id}/settings": {"get", "delete"},
    "/api/v1/client-groups/{group_id}/settings/{key}": {"put", "delete"},
    "/api/v1/clients": {"get", "post"},
    "/api/v1/clients/{client_id}": {"get", "patch", "delete"},
    "/api/v1/clients/{client_id}/settings": {"get"},
    "/api/v1/clients/{client_id}/settings/{key}": {"put", "delete"},
    "/api/v1/clients/{client_id}/contacts": {"get", "post"},
}


def test_openapi_lists_the_contract(api):
    r = api.get("/openapi.json")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    schema = r.json()
    paths = schema["paths"]
    for path, methods in CONTRACT.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    assert schema["components"]["securitySchemes"]
    list_params = {p["name"] for p in paths["/api/v1/clients"]["get"]["parameters"]}
    assert {"limit", "offset", "group_id"} <= list_params


def test_openapi_is_served_without_a_key(db):
    assert call("/openapi.json").status_code == 200


# --- Every error is problem+json ---------------------------------------------------------------


def test_errors_are_problem_json(api, company, default_group):
    assert_problem(api.get("/companies/999999"), 404)
    assert_problem(api.get("/clients/999999"), 404)
    assert_problem(api.delete(f"/companies/{company.pk}/settings/nope"), 404)
    assert_problem(api.delete(f"/client-groups/{default_group.pk}"), 409)
    body = assert_problem(api.post("/companies", {"name": "x"}), 422)
    assert {"timezone", "default_currency"} <= {e["field"] for e in body["errors"]}
    body = assert_problem(
        api.post("/companies", {"name": "x", "timezone": "Mars/Base", "default_currency": "USD"}),
        422,
    )
    assert [e["field"] for e in body["errors"]] == ["timezone"]
    assert_problem(api.get("/clients/abc"), 422)
    assert_problem(api.get("/clients?limit=501"), 422)
    r = api.http.post("/api/v1/companies", data="{not json", content_type="application/json")
    assert r.status_code in (400, 422)
    assert r["Content-Type"] == PROBLEM


def test_unknown_api_path_is_problem_json(api):
    assert_problem(api.get("/no-such-thing"), 404)
    assert_problem(api.post("/no-such-thing", {}), 404)
    assert_problem(api.get("/companies/1/nothing/here"), 404)


def test_method_not_allowed_is_problem_json(api, company):
    r = api.put("/companies", {})
    body = assert_problem(r, 405)
    assert "PUT" in body["detail"]
    assert set(r["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert_problem(api.delete(f"/companies/{company.pk}"), 405)
    assert_problem(api.post(f"/clients/{company.pk}/settings", {}), 405)


# --- Companies, briefly --------------------------------------------------------------------------


def test_company_resource(api):
    r = api.post(
        "/companies",
        {
            "name": "Acme",
            "timezone": "America/New_York",
            "default_currency": "usd",
            "notify_email": "ops@acme.test",
        },
    )
    assert r.status_code == 201
    created = r.json()
    assert created["default_currency"] == "USD"
    assert created["rounding_mode"] == "half_up"
    assert created["notify_email"] == "ops@acme.test"
    assert api.get(f"/companies/{created['id']}").json() == created
    r = api.patch(f"/companies/{created['id']}", {"rounding_mode": "half_even", "name": "Acme2"})
    assert r.status_code == 200
    assert r.json() == created | {"rounding_mode": "half_even", "name": "Acme2"}
    for bad in (
        {"rounding_mode": "down"},
        {"notify_email": "nope"},
        {"default_currency": "ZZZ"},
        {"name": ""},
    ):
        r = api.patch(f"/companies/{created['id']}", bad)
        assert_problem(r, 422)
        assert [e["field"] for e in r.json()["errors"]] == list(bad)
    listed = api.get("/companies").json()
    assert listed["count"] == 1
    assert listed["items"] == [api.get(f"/companies/{created['id']}").json()]
