"""A key of one company lists only its company's rows, and finds nothing of another company
that a query or a body names: every list and every id a query or a body takes, read from
the OpenAPI document, tried on two companies' books."""

import pytest

from groupbill.validation import MAX_ID
from tests.api.key_matrix import (
    BOOK_OBJECT,
    OPERATIONS,
    ROW_ID,
    call,
    foreign_rows,
    key_client,
    list_rows,
    operations,
    params,
    rolled_back,
    schema,
    snapshot,
    url,
)
from tests.permission_book import book


def _resolve(schema, node):
    """The schema a reference names; of `X | None`, X."""
    while "$ref" in node or "anyOf" in node:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        else:
            kinds = [k for k in node["anyOf"] if k.get("type") != "null"]
            if len(kinds) != 1:
                return node
            node = kinds[0]
    return node


def _is_id(schema, node) -> bool:
    """An id of an object (groupbill.api.common.Id, BodyId): an integer up to MAX_ID."""
    node = _resolve(schema, node)
    return node.get("type") == "integer" and MAX_ID in (node.get("le"), node.get("maximum"))


def query_ids(method, path) -> list[str]:
    operation = schema()["paths"][path][method.lower()]
    return [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "query" and _is_id(schema(), p["schema"])
    ]


def _body(method, path):
    body = schema()["paths"][path][method.lower()].get("requestBody")
    return body and _resolve(schema(), body["content"]["application/json"]["schema"])


def body_ids(method, path) -> tuple[list[str], list[str]]:
    """The ids a request body names: at its top level, and inside its lists and maps
    (`values.*.id`, `options.*.value_id`, `addon_of.*`)."""
    top, nested = [], []

    def walk(node, where):
        for name, prop in _resolve(schema(), node).get("properties", {}).items():
            prop = _resolve(schema(), prop)
            if _is_id(schema(), prop):
                (nested if where else top).append(where + name)
            for inner in ("items", "additionalProperties"):
                if isinstance(prop.get(inner), dict):
                    if _is_id(schema(), prop[inner]):
                        nested.append(f"{where}{name}.*")
                    else:
                        walk(prop[inner], f"{where}{name}.*.")

    body = _body(method, path)
    if body is not None:
        walk(body, "")
    return top, nested


def list_operations() -> list[tuple[str, str]]:
    return [(m, p) for m, p in operations() if list_rows(m, p)]


def test_every_list_says_whose_its_rows_are():
    assert len(list_operations()) > 20
    unknown = {list_rows(m, p) for m, p in list_operations()} - set(ROW_ID)
    assert unknown == set(), "rows of lists no test tells the company of"


def test_every_id_a_query_or_body_names_has_a_book_object():
    named = {n for m, p in operations() for n in query_ids(m, p) + body_ids(m, p)[0]}
    assert named - set(BOOK_OBJECT) == set()
    assert {"company_id", "client_id", "pricing_id", "payment_account_id"} <= named


@pytest.mark.django_db
def test_a_key_of_one_company_lists_only_its_rows():
    own, other = book("Own"), book("Other")
    bound, every = key_client(company_id=own["company"]), key_client(name="every")
    wrong = []
    for method, path in list_operations():
        rows_of, target = list_rows(method, path), url(path, own, OPERATIONS[(method, path)])
        mine = [{}] + [{n: own[BOOK_OBJECT[n]]} for n in query_ids(method, path)]
        for i, query in enumerate(mine):
            response = call(bound, method, target, query=query)
            rows = response.json().get("items") if response.status_code == 200 else None
            if rows is None or (i == 0 and not rows):
                wrong.append(f"{path}?{query}: {response.status_code}, {rows}")
            elif foreign_rows(rows, rows_of, own["company"]):
                wrong.append(f"{path}?{query} lists {foreign_rows(rows, rows_of, own['company'])}")
        for name in query_ids(method, path):
            response = call(bound, method, target, query={name: other[BOOK_OBJECT[name]]})
            if response.status_code != 404:
                wrong.append(f"{path}?{name}=<other's>: {response.status_code}")
        if not params(path):  # across companies: a key of every company lists both
            rows = call(every, method, target).json()["items"]
            if not foreign_rows(rows, rows_of, own["company"]):
                wrong.append(f"{path}: a key of every company lists no other company's row")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.django_db
def test_a_body_naming_another_companys_object_is_not_found_and_writes_nothing():
    own, other = book("Own"), book("Other")
    http = key_client(company_id=own["company"])
    tried_names, wrong = set(), []
    for (method, path), tried in OPERATIONS.items():
        for name in body_ids(method, path)[0]:
            tried_names.add(name)

            def attempt(method=method, path=path, tried=tried, name=name):
                if tried.prepare:
                    tried.prepare(own)
                body = tried.body(own) | {name: other[BOOK_OBJECT[name]]}
                before = snapshot()
                response = call(http, method, url(path, own, tried), body)
                if response.status_code != 404 or str(body[name]) not in response.json()["detail"]:
                    return f"{method} {path} {name}: {response.status_code} {response.content}"
                return None if snapshot() == before else f"{method} {path} {name}: written"

            problem = rolled_back(attempt)
            if problem:
                wrong.append(problem)
    assert wrong == [], "\n".join(wrong)
    assert {"company_id", "client_id", "group_id", "pricing_id", "parent_id",
            "payment_account_id", "invoice_id"} <= tried_names  # fmt: skip


def _options(option, value):
    return {"options": {str(option): {"value_id": value}}}


# Ids inside a body's lists and maps: each action checks them against the company (the
# package, the option) it works on; another company's is a 422 on its place.
NESTED = {
    ("POST", "/api/v1/services", "options.*.value_id"): lambda o, x: (
        {"client_id": o["client"], "pricing_id": o["price"]} | _options(o["option"], x["value"]),
        f"options.{o['option']}",
    ),
    ("POST", "/api/v1/services/{service_id}/changes", "options.*.value_id"): lambda o, x: (
        _options(x["option"], x["value"]),
        f"options.{x['option']}",
    ),
    ("POST", "/api/v1/companies/{company_id}/packages", "addon_of.*"): lambda o, x: (
        {"name": "VPS", "addon_of": [x["package"]]},
        "addon_of.0",
    ),
    ("PATCH", "/api/v1/packages/{package_id}", "addon_of.*"): lambda o, x: (
        {"addon_of": [x["package"]]},
        "addon_of.0",
    ),
    ("POST", "/api/v1/packages/{package_id}/options", "values.*.id"): lambda o, x: (
        {"name": "RAM", "values": [{"id": x["value"], "name": "1 GB"}]},
        "values.0.id",
    ),
    ("PATCH", "/api/v1/package-options/{option_id}", "values.*.id"): lambda o, x: (
        {"values": [{"id": x["value"], "name": "1 GB"}]},
        "values.0.id",
    ),
}


def test_every_id_inside_a_body_is_tried():
    named = {(m, p, n) for m, p in operations() for n in body_ids(m, p)[1]}
    assert named == set(NESTED)


@pytest.mark.django_db
def test_an_id_inside_a_body_naming_another_companys_object_is_refused():
    own, other = book("Own"), book("Other")
    http = key_client(company_id=own["company"])
    wrong = []
    for (method, path, _), make in NESTED.items():
        tried = OPERATIONS[(method, path)]

        def attempt(method=method, path=path, tried=tried, make=make):
            if tried.prepare:
                tried.prepare(own)
            body, place = make(own, other)
            before = snapshot()
            response = call(http, method, url(path, own, tried), body)
            errors = response.json().get("errors", []) if response.status_code == 422 else []
            if place not in {e["field"] for e in errors}:
                return f"{method} {path} {place}: {response.status_code} {response.content}"
            return None if snapshot() == before else f"{method} {path} {place}: written"

        problem = rolled_back(attempt)
        if problem:
            wrong.append(problem)
    assert wrong == [], "\n".join(wrong)
