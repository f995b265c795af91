"""The error answers every operation can give, declared in the OpenAPI document with the
problem+json schema, so that a client generated from it knows them all."""

from groupbill.api.problems import TITLES
from groupbill.ui.permissions import ID_NAMES

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each refused field.",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def _error_statuses(path: str, method: str, operation: dict) -> set[int]:
    statuses = {422}  # query, path and body validation, and the domain's own refusals
    if operation.get("security"):
        statuses |= {401, 429}
    queried = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    if "{" in path or "requestBody" in operation or queried & ID_NAMES:
        # The object the path, the body or the query names does not exist, or is another
        # company's than the API key's.
        statuses.add(404)
    if method != "get":
        statuses.add(403)  # a read-only API key, or one of one company making a company
        statuses.add(409)  # a state that forbids the change, or an attempt still pending
    if "requestBody" in operation:
        statuses |= {400, 413, 415}  # unparsable, too large, not JSON
    return statuses


def declare_errors(schema: dict) -> dict:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_error_statuses(path, method, operation)):
                answer = {
                    "description": TITLES[status],
                    "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                }
                if status == 429:
                    answer["headers"] = RETRY_AFTER
                responses.setdefault(str(status), answer)
    return schema
