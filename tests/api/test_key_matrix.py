"""Every API operation with every kind of key, in its own company and in another:

- a key of every company that may change (`every`) and a key of the own company (`own`)
  succeed on the own company's book, and each change they make is audited under the key;
- a key of the own company asking about the other company's objects (`other`) finds
  nothing (404) and writes nothing; a list it reads holds none of their rows;
- a read-only key reads (200) and is refused every change (403), writing nothing.

An operation of the OpenAPI document without a row in key_matrix.OPERATIONS fails the
coverage test, by name."""

import pytest

from tests.api.key_matrix import (
    BOOK_OBJECT,
    CHANGES,
    OPERATIONS,
    audit_actors_since,
    call,
    foreign_rows,
    key_client,
    last_audit_pk,
    list_rows,
    operations,
    params,
    rolled_back,
    schema,
    snapshot,
    url,
)
from tests.permission_book import book

KINDS = ("every", "own", "other", "read_only")
SUCCESS = {"GET": 200, "POST": 201, "PUT": 200, "PATCH": 200, "DELETE": 204}


def test_every_operation_has_a_row():
    assert sorted(set(operations()) - set(OPERATIONS)) == [], "operations never tried"
    assert sorted(set(OPERATIONS) - set(operations())) == [], "rows of no operation"
    named = {p for _, path in operations() for p in params(path)}
    assert named - set(BOOK_OBJECT) == {"key"}, "path ids the book has no object for"


@pytest.mark.django_db
def test_the_openapi_document_states_what_a_key_is_refused():
    own, unstated = book("Own"), []
    for method, path in operations():
        tried = OPERATIONS[(method, path)]
        body = tried.body(own) if tried.body else None
        answers = {str(s) for s in schema()["paths"][path][method.lower()]["responses"]}
        if method in CHANGES and "403" not in answers:
            unstated.append(f"{method} {path}: 403 (a read-only key)")
        if _names_objects(path, body, tried.query(own)) and "404" not in answers:
            unstated.append(f"{method} {path}: 404 (another company's object)")
    assert unstated == []


def _success(method, path, tried, response) -> int:
    if tried.ok is not None:
        return tried.ok
    if method == "POST" and response.status_code in (200, 202):
        return response.status_code  # an action on an object, or a run queued
    return SUCCESS[method]


def _names_objects(path, body, query) -> bool:
    """The request names an object of a company, in its path, its query or its body."""
    return bool(params(path) or query or set(body or {}) & set(BOOK_OBJECT))


def _refused(kind, method, path, tried, body, query) -> int | None:
    """The refusal the kind of key is answered (None: it is let through)."""
    if kind == "read_only":
        return 403 if method in CHANGES else None
    if kind == "other" and _names_objects(path, body, query):
        return 404
    return tried.bound if kind in ("own", "other") else None


def _try(kind, http, method, path, tried, own, other) -> str | None:
    """What is wrong with the answer to one operation (None: nothing)."""
    target = other if kind == "other" else own
    if tried.prepare:
        tried.prepare(target)
    body, query = tried.body(target) if tried.body else None, tried.query(target)
    refusal = _refused(kind, method, path, tried, body, query)
    before, audited = snapshot() if refusal else None, last_audit_pk()
    response = call(http, method, url(path, target, tried), body, query)
    status, name = response.status_code, f"{method} {path}"
    if refusal:
        if status != refusal or (
            kind == "read_only" and "read-only" not in response.json()["detail"]
        ):
            return f"{name}: {status}, not {refusal}"
        return None if snapshot() == before else f"{name}: refused, yet written"
    if kind == "other":  # a list naming nothing: none of the other company's rows
        if status != 200:
            return f"{name}: {status}, not 200"
        foreign = foreign_rows(response.json()["items"], list_rows(method, path), own["company"])
        return f"{name}: lists {foreign}" if foreign else None
    expected = 200 if kind == "read_only" else _success(method, path, tried, response)
    if status != expected:
        return f"{name}: {status}, not {expected}: {response.content[:200]!r}"
    if method in CHANGES and status < 300:
        actors = audit_actors_since(audited) if tried.audited else [response.json()["actor"]]
        if not actors or set(actors) != {"apikey:scoped"}:
            return f"{name}: audited as {actors}"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_every_operation_with_every_key(kind, settings):
    settings.PORTAL_BASE_URL = "https://billing.example.com"  # password links need it
    own, other = book("Own"), book("Other")
    scope = {
        "every": {},
        "own": {"company_id": own["company"]},
        "other": {"company_id": own["company"]},
        "read_only": {"read_only": True},
    }[kind]
    http = key_client(**scope)
    wrong = []
    for (method, path), tried in OPERATIONS.items():
        problem = rolled_back(
            lambda m=method, p=path, t=tried: _try(kind, http, m, p, t, own, other)
        )
        if problem:
            wrong.append(problem)
    assert wrong == [], "\n".join(wrong)
