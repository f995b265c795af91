from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from groupbill.api.models import ApiKey, hash_key

_TOUCH_EVERY = timedelta(minutes=1)


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = ApiKey.objects.filter(key_hash=hash_key(token), revoked_at__isnull=True).first()
        if key is None:
            return None
        now = timezone.now()
        # Record use at most once a minute: no write per request.
        if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key


def actor(request: HttpRequest) -> str:
    return request.auth.actor


def principal(request: HttpRequest) -> str:
    """Whose idempotency keys these are: each API key has its own."""
    return f"apikey:{request.auth.pk}"
