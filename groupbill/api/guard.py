"""What the API takes before any endpoint sees it: bodies of at most `API_MAX_BODY_BYTES`
(413 otherwise, checked from the headers before anything is read); then, for a caller
with a valid key (others get their 401 from the endpoint), JSON only (415 otherwise) and
only valid Unicode in it (a lone surrogate such as "\\ud800" is valid JSON but can be
stored nowhere: a 422 on its field)."""

import json

from django.conf import settings
from django.http import HttpRequest

from groupbill.api.models import ApiKey, hash_key
from groupbill.api.problems import problem

API_PREFIX = "/api/"
JSON_TYPES = ("application/json",)
_WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")


class BodyGuard:
    """Django middleware for the API's paths: size and type are checked from the headers,
    before the body is read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path.startswith(API_PREFIX) and request.method in _WITH_BODY:
            refusal = _refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)


def _refusal(request: HttpRequest):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return problem(400, "Content-Length must be a number of bytes.")
    limit = settings.API_MAX_BODY_BYTES
    if length > limit:
        return problem(413, f"The body is {length} bytes; the API takes at most {limit}.")
    if not _authenticated(request):
        return None  # the endpoint answers 401 first; only the size is checked before
    kind = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if length and kind not in JSON_TYPES:
        return problem(
            415, f"Send the body as JSON (Content-Type: application/json), not {kind or 'none'}."
        )
    if length:
        try:
            data = json.loads(request.body)
        except ValueError:
            return None  # the endpoint answers a body that is no JSON
        path = _lone_surrogate(data)
        if path is not None:
            field = ".".join(str(p) for p in path) or "body"
            message = "must be valid text (it holds a lone surrogate character)"
            return problem(422, f"{field}: {message}", [{"field": field, "message": message}])
    return None


def _authenticated(request: HttpRequest) -> bool:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return ApiKey.objects.filter(key_hash=hash_key(token.strip()), revoked_at__isnull=True).exists()


def _lone_surrogate(value, path=()):
    """The path to the first string holding a lone surrogate, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and _lone_surrogate(key) is not None:
                return path  # the key itself cannot be named in the answer
            found = _lone_surrogate(item, (*path, key))
            if found is not None:
                return found
    return None
