from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from groupbill.addresses import client_address
from groupbill.api.models import ApiKey, KeyFailure, hash_key
from groupbill.errors import Forbidden, NotFound, TooManyRequests
from groupbill.ui.permissions import NO_COMPANY, company_of

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
    a path naming another company's object answers 404, as if it did not exist."""
    if key.read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
        raise Forbidden(f"API key {key.name} is read-only: it may not {request.method}.")
    if key.company_id is None:
        return
    match = getattr(request, "resolver_match", None)
    company_id = company_of(match.kwargs if match else {})
    if company_id is not None and company_id is not NO_COMPANY and company_id != key.company_id:
        raise NotFound(f"The API has no {request.path} for this key.")


def key_company(request: HttpRequest) -> int | None:
    """The one company the request's key works in (None: every company)."""
    return getattr(request.auth, "company_id", None)


def own_company(request: HttpRequest, company_id: int | None) -> None:
    """A company named in a body or a query: another company than the key's is not found."""
    bound = key_company(request)
    if bound is not None and company_id is not None and int(company_id) != bound:
        raise NotFound(f"No company {company_id}.")


def actor(request: HttpRequest) -> str:
    return request.auth.actor


def principal(request: HttpRequest) -> str:
    """Whose idempotency keys these are: each API key has its own."""
    return f"apikey:{request.auth.pk}"
