import hashlib
import secrets

from django.conf import settings
from django.db import models

from groupbill.audit.actions import Subject

KEY_PREFIX = "gb_"


def hash_key(raw: str) -> str:
    # Keys are 256-bit random tokens, so a fast unsalted hash is enough to make a leaked
    # table useless while keeping the per-request lookup a single indexed query.
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKey(models.Model):
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, shown in lists so staff can tell keys apart.
    prefix = models.CharField(max_length=12)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    # The company the key works in (None: every company) and whether it may change
    # anything (groupbill.api.auth answers 403 to a read-only key's change, 404 to a
    # company-bound key asking about another company's objects).
    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def audit_subject(self) -> Subject:
        return Subject("api_key", None, self.pk, self.name)

    @property
    def actor(self) -> str:
        return f"apikey:{self.name}"


class KeyFailure(models.Model):
    """A request with an API key that names no key: counted per address, so guessing keys
    is answered 429 (groupbill.api.auth)."""

    at = models.DateTimeField(db_index=True)
    address = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["address", "at"])]

    def __str__(self) -> str:
        return f"{self.address} at {self.at:%Y-%m-%d %H:%M:%S}"
