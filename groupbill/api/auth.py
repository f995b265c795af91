from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from groupbill.addresses import client_address
from groupbill.api.models import ApiKey, KeyFailure, hash_key
from groupbill.errors import TooManyRequests

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
        return key


def actor(request: HttpRequest) -> str:
    return request.auth.actor


def principal(request: HttpRequest) -> str:
    """Whose idempotency keys these are: each API key has its own."""
    return f"apikey:{request.auth.pk}"
