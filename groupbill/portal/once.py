"""One-time keys for confirm buttons (see models.Confirmation)."""

import secrets

from django.db import IntegrityError, transaction

from groupbill.portal.models import Confirmation, PortalAccount

FIELD = "once"


def new_key() -> str:
    return secrets.token_urlsafe(24)


def claim(account: PortalAccount, key: str) -> bool:
    """Take the key (committed at once, before the action it guards makes any external
    call); False when it was taken before."""
    if not key or len(key) > 64:
        return True  # no key sent (not from our form): nothing to deduplicate on
    try:
        with transaction.atomic():
            Confirmation.objects.create(account=account, key=key)
    except IntegrityError:
        return False
    return True


def release(account: PortalAccount, key: str) -> None:
    """Give the key back after the action was refused, so the client may confirm again."""
    Confirmation.objects.filter(account=account, key=key).delete()
