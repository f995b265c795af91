"""API keys: made for one company (or every company), read-only or read-write; the raw
key is returned once and never stored, only its hash. Both are audited."""

import hashlib
import secrets

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from groupbill import validation as v
from groupbill.audit.actions import record
from groupbill.companies.models import ApiKey, Company
from groupbill.errors import FieldError, NotFound

KEY_PREFIX = "gb_"


def hash_key(raw: str) -> str:
    # Keys are 256-bit random tokens, so a fast unsalted hash is enough to make a leaked
    # table useless while keeping the per-request lookup a single indexed query.
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_api_key(
    name: str, *, actor: str, user=None, company_id: int | None = None, read_only: bool = False
) -> tuple[ApiKey, str]:
    """A new key, for one company (company_id) or all, read-only or read-write; the raw key
    is returned once and never stored."""
    try:
        name = v.text(name, max_length=100, required=True)
    except ValueError as exc:
        v.raise_if([FieldError("name", str(exc))])
    if company_id is not None and not Company.objects.filter(pk=company_id).exists():
        v.raise_if([FieldError("company", f"no company has id {company_id}")])
    raw = new_raw_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            key_hash=hash_key(raw),
            prefix=raw[:8],
            user=user,
            company_id=company_id,
            read_only=read_only,
        )
        record(
            subject=key,
            actor=actor,
            action="apikey.create",
            new={"value": {"company_id": company_id, "read_only": read_only}},
        )
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


def keys_for(company: Company) -> QuerySet[ApiKey]:
    """The keys that work in a company: its own and those of every company, active first,
    newest first, with who made them."""
    return (
        ApiKey.objects.filter(Q(company=company) | Q(company__isnull=True))
        .select_related("user")
        .order_by(F("revoked_at").desc(nulls_first=True), "-pk")
    )
