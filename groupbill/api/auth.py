import json
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from groupbill.addresses import client_address
from groupbill.api.models import ApiKey, KeyFailure, hash_key
from groupbill.errors import Forbidden, NotFound, TooManyRequests
from groupbill.ui.permissions import ID_NAMES, NO_COMPANY, company_named

_TOUCH_EVERY = timedelta(minutes=1)


FAILURE_WINDOW = timedelta(minutes=10)


class KeyGuessing(TooManyRequests):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"Too many requests with keys that name no API key from this address; try again "
            f"in {retry_after} seconds."
        )


def _refuse_if_guessing(address: str, now) -> None:
    recent = KeyFailure.objects.filter(address=address, at__gt=now - FAILURE_WINDOW)
    limit = settings.API_KEY_FAILURE_LIMIT
    times = list(recent.order_by("-at").values_list("at", flat=True)[:limit])
    if len(times) >= limit:
        free_at = times[-1] + FAILURE_WINDOW
        raise KeyGuessing(max(1, int((free_at - now).total_seconds()) + 1))


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        now, address = timezone.now(), client_address(request)[:64]
        _refuse_if_guessing(address, now)
        key = ApiKey.objects.filter(key_hash=hash_key(token), revoked_at__isnull=True).first()
        if key is None:
            KeyFailure.objects.create(at=now, address=address)
            KeyFailure.objects.filter(at__lt=now - FAILURE_WINDOW).delete()
            return None
        # Record use at most once a minute: no write per request.
        if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        check_scope(request, key)
        return key


def check_scope(request: HttpRequest, key: ApiKey) -> None:
    """A read-only key may only read (403); a key of one company sees nothing of another:
    a request naming another company's object, in its path, its query or its body, answers
    404, as if it did not exist. An id naming nothing is left to the operation to answer."""
    if key.read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
        raise Forbidden(f"API key {key.name} is read-only: it may not {request.method}.")
    if key.company_id is None:
        return
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if name in ID_NAMES and _elsewhere(key, name, value):
                raise NotFound(f"The API has no {request.path} for this key.")
    for where, name, value in _named_ids(request):
        if _elsewhere(key, name, value):
            raise NotFound(
                f"No {_NAMED.get(name, name)} {value} for this key (the {where} {name})."
            )


# Ids in bodies named otherwise than in URLs: the URL parameter of the object they name.
_BODY_NAMES = {"payment_account_id": "account_id", "parent_id": "service_id"}
# How a refusal names the object.
_NAMED = {name: name.removesuffix("_id").replace("_", " ") for name in ID_NAMES} | {
    "pricing_id": "price",
    "parent_id": "service",
    "payment_account_id": "payment account",
    "account_id": "payment account",
    "recurring_id": "recurring invoice",
    "change_id": "service change",
    "line_id": "invoice line",
    "endpoint_id": "webhook endpoint",
    "delivery_id": "webhook delivery",
    "run_id": "engine run",
}


def _named_ids(request: HttpRequest) -> list[tuple[str, str, object]]:
    """The ids of objects a query and a JSON body name at their top level (a body's ids in
    its lists and maps are checked by the action against the company it works in)."""
    named = [("query parameter", n, request.GET[n]) for n in request.GET if n in ID_NAMES]
    if request.method in ("POST", "PUT", "PATCH") and request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, RecursionError):
            body = None  # the operation answers the malformed body
        if isinstance(body, dict):
            named += [
                ("field", name, value)
                for name, value in body.items()
                if (name in ID_NAMES or name in _BODY_NAMES)
                and type(value) is int  # anything else is the operation's 422
            ]
    return named


def _elsewhere(key: ApiKey, name: str, value) -> bool:
    """The id names an object of another company than the key's, or of none (a run of
    every company)."""
    company = company_named(_BODY_NAMES.get(name, name), value)
    return company is not NO_COMPANY and company != key.company_id


def key_company(request: HttpRequest) -> int | None:
    """The one company the request's key works in (None: every company)."""
    return getattr(request.auth, "company_id", None)


def actor(request: HttpRequest) -> str:
    return request.auth.actor


def principal(request: HttpRequest) -> str:
    """Whose idempotency keys these are: each API key has its own."""
    return f"apikey:{request.auth.pk}"
