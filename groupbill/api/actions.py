from django.db import transaction
from django.utils import timezone

from groupbill import validation as v
from groupbill.api.models import ApiKey, hash_key, new_raw_key
from groupbill.audit.actions import record
from groupbill.errors import FieldError, NotFound


def create_api_key(name: str, *, actor: str, user=None) -> tuple[ApiKey, str]:
    """A new key; the raw key is returned once and never stored."""
    try:
        name = v.text(name, max_length=100, required=True)
    except ValueError as exc:
        v.raise_if([FieldError("name", str(exc))])
    raw = new_raw_key()
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, key_hash=hash_key(raw), prefix=raw[:8], user=user)
        record(subject=key, actor=actor, action="apikey.create")
    return key, raw


def revoke_api_key(key_id: int, *, actor: str) -> ApiKey:
    key = ApiKey.objects.filter(pk=key_id, revoked_at__isnull=True).first()
    if key is None:
        raise NotFound(f"No active API key {key_id}.")
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record(subject=key, actor=actor, action="apikey.revoke")
    return key
