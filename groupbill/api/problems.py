"""RFC 9457 problem+json responses for every error the API can answer."""

from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from groupbill.errors import DomainError

TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Payload too large",
           415: "Unsupported media type", 422: "Invalid request",
           429: "Too many requests"}  # fmt: skip

# Pydantic's wording for the commonest mistakes, said for people.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    **dict.fromkeys(
        ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"),
        "must be a date as YYYY-MM-DD",
    ),
}


def problem(
    status: int, detail: str, errors: list[dict] | None = None, title: str | None = None
) -> JsonResponse:
    body = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _field(loc: list) -> str:
    # loc is e.g. ["body", "payload", "name"] or ["query", "limit"]; keep what names the field.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in {"query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(error: dict) -> str:
    if error.get("type") == "value_error":  # a field type's own words (api.fields)
        return str((error.get("ctx") or {}).get("error", error.get("msg")))
    return _MESSAGES.get(error.get("type"), error.get("msg"))


def _validation(request: HttpRequest, exc: ValidationError) -> JsonResponse:
    errors = [{"field": _field(e.get("loc", [])), "message": _message(e)} for e in exc.errors]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, detail, errors)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> JsonResponse:
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        response = problem(exc.status, exc.message, errors, exc.title)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> JsonResponse:
        return _validation(request, exc)

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> JsonResponse:
        response = problem(401, "A valid API key is required: Authorization: Bearer <key>.")
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> JsonResponse:
        return problem(exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> JsonResponse:
        return problem(404, str(exc) or "Not found.")
